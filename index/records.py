"""Records that cross module boundaries. Plain frozen dataclasses, no behaviour."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """One article as ingestion sees it, before chunking."""

    article_id: str
    source: str  # the file it came from
    title: str
    text: str  # clean article text; quotes and chunk offsets refer to it
    url: str = ""
    published: str = ""  # ISO date (YYYY-MM-DD) or ""
    author: str = ""
    site: str = ""
    record: str = ""  # the WARC record id or export line within `source`, if any
    content_hash: str = ""

    @property
    def location(self) -> str:
        return f"{self.source}#{self.record}" if self.record else self.source


@dataclass(frozen=True)
class SourceError:
    """A file (or record in it) that could not be read; the build goes on without it."""

    path: str  # the file; its existing articles are kept while it has errors
    message: str  # one line, says what is wrong
    where: str = ""  # ":LINE" or "#RECORD" within the file, if the error is in one record

    def __str__(self) -> str:
        return f"{self.path}{self.where}: {self.message}"


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, with character offsets into `Article.text`."""

    ordinal: int
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """A search result: one chunk of one article."""

    chunk_id: int
    article_id: str
    title: str
    url: str
    published: str
    site: str
    start: int
    end: int
    text: str  # the chunk's text, article.text[start:end]
    score: float


@dataclass(frozen=True)
class BuildSummary:
    added: int
    updated: int
    unchanged: int
    removed: int
    failed: int
    chunks_embedded: int
    seconds: float
    errors: tuple[str, ...] = ()
    duplicates: int = 0  # the same article id met again (e.g. a page captured twice); the first is kept

    def line(self) -> str:
        dup = f", {self.duplicates} duplicates skipped" if self.duplicates else ""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {self.failed} failed{dup}; "
            f"{self.chunks_embedded} chunks embedded in {self.seconds:.1f}s"
        )
