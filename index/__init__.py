"""Archivist's index: reading archives, chunking, embedding, storing and searching."""
