"""Records that cross module boundaries. Plain frozen dataclasses, no behaviour."""
from __future__ import annotations

from dataclasses import dataclass

from index.reading.safe import line, name


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
class Place:
    """A record of a many-record file (a WARC) whose reading has begun: its index among the file's
    records, its id, and how many HTML records came before it. A reader process stopped or killed
    inside it goes on from the record after (index/reading/worker.py)."""

    record: int
    rid: str = ""
    found: int = 0


@dataclass(frozen=True)
class SourceError:
    """A file (or record in it) that could not be read; the build goes on without it."""

    path: str  # the file; its existing articles are kept while it has errors
    message: str  # one line, says what is wrong
    where: str = ""  # ":LINE" or "#RECORD" within the file, if the error is in one record

    def __str__(self) -> str:
        # names come from outside: one line, escaped, whatever they hold
        return f"{name(self.path)}{name(self.where)}: {line(self.message)}"


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
    score: float  # the ranking score of the mode used (fused, cosine or BM25)
    similarity: float = 0.0  # cosine of the question and the chunk, whatever the mode


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
    sources: tuple[str, ...] = ()  # what the build read: the configured sources, or the paths given
    encoder: str = ""  # what embedded ("onnx on cpu", "onnx on Ray, 4 workers"); empty when nothing was

    def line(self) -> str:
        dup = f", {self.duplicates} duplicates skipped" if self.duplicates else ""
        shown = ", ".join(name(s) for s in self.sources[:3]) + (
            f" and {len(self.sources) - 3} more" if len(self.sources) > 3 else "")
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {self.failed} failed{dup}; "
            f"{self.chunks_embedded} chunks embedded" + (f" ({self.encoder})" if self.encoder else "")
            + f" in {self.seconds:.1f}s" + (f"; read {shown}" if shown else "")
        )


@dataclass(frozen=True)
class Passage:
    """One quote of an answer: an exact substring of its article, text[start:end]."""

    article_id: str
    title: str
    url: str
    published: str
    site: str
    quote: str
    start: int
    end: int
    chunk_id: int
    score: float
    cut_before: bool = False  # the quote starts inside a sentence: show an ellipsis
    cut_after: bool = False
    copies: int = 1  # near-identical articles (the same story saved or syndicated twice) folded into this one
    confidence: float = 0.0  # the fitted chance that the quote holds what was asked (index/searching/evidence.py)
    evidence: float = 0.0  # how much its article is about the question (cosine + rare words), as Answer.evidence
    read: float | None = None  # the reader's logit for its quoted sentence (above 0: it reads an answer there)


@dataclass(frozen=True)
class Closest:
    article_id: str
    title: str
    url: str
    published: str


ANSWERED, RELATED, NOTHING, ERROR = "answered", "related", "nothing", "error"


@dataclass(frozen=True)
class Answer:
    question: str  # as asked, without Slack markup
    query: str = ""  # what was searched: the question without its filters
    filters: tuple[str, ...] = ()  # the filters applied, described for the reply
    passages: tuple[Passage, ...] = ()
    # answered: a passage holds what was asked; related: articles on the subject, none with the fact
    # asked for; nothing: the archive has nothing on it (`closest` lists the nearest titles);
    # error: a bad request, `error` says why
    status: str = ANSWERED
    closest: tuple[Closest, ...] = ()
    error: str = ""  # a bad request (bad filter, empty question): the message to show instead
    articles_searched: int = 0
    index_date: str = ""
    more: bool = False  # further passages exist (offset + len(passages) onwards)
    follow_up: bool = False  # read as a follow-up of the thread's earlier questions
    evidence: float = 0.0  # how much the best article is about the question (cosine + rare words); "nothing" below min_evidence
    answerable: float = 0.0  # the fitted chance that the reply holds what was asked; "answered" from min_answer
    read: float | None = None  # the reader's best logit over the reply's likeliest quotes; "answered" from min_read

    @property
    def abstained(self) -> bool:
        return self.status == NOTHING

    @property
    def filtered_out(self) -> bool:
        """Nothing, because the filters leave no article to search: the reply says so, not "nothing about it"."""
        return self.status == NOTHING and bool(self.filters) and self.articles_searched == 0


@dataclass(frozen=True)
class Thread:
    """The earlier turns of a conversation: a follow-up is read with them."""

    questions: tuple[str, ...] = ()  # earlier questions, oldest first
    article_ids: tuple[str, ...] = ()  # articles the earlier answers quoted, latest turn first

    def after(self, answer: "Answer") -> "Thread":
        """This thread with one more turn: the question asked and the articles its answer quoted."""
        cited = tuple(dict.fromkeys(p.article_id for p in answer.passages))
        return Thread(self.questions + (answer.query or answer.question,),
                      tuple(dict.fromkeys(cited + self.article_ids))[:MAX_THREAD_ARTICLES])


MAX_THREAD_ARTICLES = 6


@dataclass(frozen=True)
class Sentence:
    text: str  # exact: article.text[start:end]
    start: int
    end: int


@dataclass(frozen=True)
class Summary:
    """A few sentences of one article, verbatim and in article order."""

    article_id: str
    title: str
    url: str
    published: str
    site: str
    sentences: tuple[Sentence, ...]
    source: str = ""  # the file it came from
    record: str = ""  # its record there: an export's own id, a WARC record id or a line number


@dataclass(frozen=True)
class SummaryReply:
    query: str  # what was asked for: a URL, an id or words
    summary: Summary | None = None
    did_you_mean: tuple[Closest, ...] = ()  # other articles that matched the words almost as well
    error: str = ""  # nothing found, or a bad request: the message to show
