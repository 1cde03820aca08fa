"""Archivist's user-facing side: answers, the command line and (later) Slack."""
