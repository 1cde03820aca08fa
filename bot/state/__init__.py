"""The bot's own state (answered events, threads, questions, feedback, watches) and where it is kept."""
