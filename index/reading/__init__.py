"""Reading an archive: files and records to clean articles, sentences and chunks."""
