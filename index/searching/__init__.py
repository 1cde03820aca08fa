"""From a question to passages: retrieval, filters, evidence, quotes, links, summaries."""
