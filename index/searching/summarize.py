"""Extractive summary of one article: a few of its own sentences, verbatim, in article order.

Unsupervised, on the sentence embeddings of the model already loaded, in the spirit of PacSum
(Zheng & Lapata, 2019): a sentence is central when the sentences after it say what it says (news
states the key facts first and elaborates later), which is combined with a prior for the lead;
near-repeats of a chosen sentence (a photo caption restating the lead, say) are skipped, and so is
page furniture such as bylines.
"""
from __future__ import annotations

import re

import numpy as np

from index.reading import sentences
from index.embedding.embed import Embedder

MAX_CONSIDERED = 30  # long articles: only the first sentences compete (cost stays flat; news leads with the news)
HEAD_CHARS = 20_000  # ...and they are found in about this much of its start
MIN_WORDS = 5
MAX_WORDS = 40  # text without sentence punctuation is cut into pieces of this many words
REDUNDANT = 0.75  # cosine above which a sentence repeats one already chosen
EDGE_FLOOR = 0.5  # share of the similarity range below which two sentences are not connected
FORWARD, BACKWARD = 1.0, -0.5  # PacSum: support from later sentences counts, from earlier ones it counts against
LEAD_WEIGHT = 2.0  # weight of the position prior against centrality (both scaled to 0..1)
_FURNITURE = re.compile(r"^(by\b|published:|updated:|last updated|click here|scroll down|follow\b|read more|"
                        r"share this|sign up|image:|photo:|video:|watch:)", re.I)


def _usable(text: str) -> bool:
    return len(text.split()) >= MIN_WORDS and not _FURNITURE.match(text.strip())


def summarize(text: str, embedder: Embedder, n: int) -> list[tuple[int, int]]:
    """(start, end) of the chosen sentences, in article order."""
    head = text[:_head_end(text)]  # offsets into the head are offsets into the text
    spans = [piece for s, e in sentences.split(head) for piece in _pieces(head, s, e)]
    spans = ([sp for sp in spans if _usable(text[sp[0]:sp[1]])] or spans)[:MAX_CONSIDERED]
    if len(spans) <= n:
        return spans
    vecs = embedder.encode([text[s:e] for s, e in spans])
    scores = _scores(vecs @ vecs.T)
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    chosen: list[int] = []
    for i in order:
        if all(float(vecs[i] @ vecs[j]) < REDUNDANT for j in chosen):
            chosen.append(i)
        if len(chosen) == n:
            break
    chosen += [i for i in order if i not in chosen][: n - len(chosen)]  # all alike: still give n sentences
    return [spans[i] for i in sorted(chosen)]


def _head_end(text: str) -> int:
    """Where the part a summary reads ends: a paragraph end past HEAD_CHARS, so the cost of a summary
    stays flat however long the article (a 9 MB text must not hold the bot up)."""
    if len(text) <= HEAD_CHARS:
        return len(text)
    cut = text.find("\n", HEAD_CHARS)
    return cut if 0 <= cut <= 2 * HEAD_CHARS else 2 * HEAD_CHARS


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    words = sentences.word_spans(text, start, end)
    if len(words) <= MAX_WORDS:
        return [(start, end)]
    return [(words[i][0], words[min(i + MAX_WORDS, len(words)) - 1][1]) for i in range(0, len(words), MAX_WORDS)]


def _scores(sim: np.ndarray) -> np.ndarray:
    m = len(sim)
    off = sim[~np.eye(m, dtype=bool)]
    lo, hi = float(off.min()), float(off.max())
    edges = np.maximum(sim - (lo + EDGE_FLOOR * (hi - lo)), 0.0)
    np.fill_diagonal(edges, 0.0)
    later = np.triu(edges, 1).sum(axis=1)  # what the sentences after i share with it
    earlier = np.tril(edges, -1).sum(axis=1)
    centrality = _unit(FORWARD * later + BACKWARD * earlier)
    lead = 1.0 / np.sqrt(np.arange(1, m + 1))
    return centrality + LEAD_WEIGHT * _unit(lead)


def _unit(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)
