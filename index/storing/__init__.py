"""The index on disk: SQLite, FAISS, builds, checks and snapshots."""
