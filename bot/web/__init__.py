"""The HTTP side: the waitress server (Slack's requests, health, the archive's pages) and the pages."""
