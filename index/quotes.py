"""The quote of a passage: the one to three consecutive sentences of a chunk that best answer the
question, cut from the article text by offsets.

Sentences are scored by the model (cosine with the question) and by the question's terms; the best
one is widened by its better-scoring neighbours while the quote stays short (XQuAD: the answer is
inside a top-3 quote 0.827 of the time this way, 0.797 when only close-scoring neighbours joined). A sentence too long to
quote whole is cut on words around the question's terms, and the cut is marked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index import sentences

LEX_WEIGHT = 0.6  # a sentence holding all the question's terms gains this much over its cosine
MAX_SENTENCES = 3
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Quote:
    start: int
    end: int
    score: float
    cut_before: bool = False
    cut_after: bool = False


def stems(words) -> set[str]:
    """Truncation stemming: five letters are enough to match 'recognition' with 'recognised'."""
    return {w[:5] for w in words}


def lexical(text: str, query_stems: set[str]) -> float:
    if not query_stems:
        return 0.0
    return len(query_stems & stems(w.lower() for w in _WORD.findall(text))) / len(query_stems)


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as article offsets (chunks cut inside a sentence are clipped)."""
    out = []
    for s, e in sentences.split(text[start:end]):
        out.append((start + s, start + e))
    return out


def choose(text: str, spans: list[tuple[int, int]], sims: np.ndarray, query_stems: set[str],
           max_chars: int) -> Quote:
    scores = [float(sims[i]) + LEX_WEIGHT * lexical(text[s:e], query_stems) for i, (s, e) in enumerate(spans)]
    best = int(np.argmax(scores))
    lo = hi = best
    while hi - lo + 1 < MAX_SENTENCES:
        options = [j for j in (lo - 1, hi + 1) if 0 <= j < len(spans)]
        options = [j for j in options  # context around the answer helps more than it costs, while short
                   if max(spans[hi][1], spans[j][1]) - min(spans[lo][0], spans[j][0]) <= max_chars]
        if not options:
            break
        j = max(options, key=lambda j: scores[j])
        lo, hi = min(lo, j), max(hi, j)
    start, end = spans[lo][0], spans[hi][1]
    if end - start <= max_chars:
        return Quote(start, end, scores[best])
    return _cut(text, start, end, query_stems, max_chars, scores[best])


def _cut(text: str, start: int, end: int, query_stems: set[str], max_chars: int, score: float) -> Quote:
    """A window of whole words, at most max_chars long, holding the most of the question's terms."""
    words = sentences.word_spans(text, start, end)
    hits = [1 if stems(w.lower() for w in _WORD.findall(text[s:e])) & query_stems else 0 for s, e in words]
    best_i, best_j, best_hits = 0, 0, -1
    j = 0
    for i in range(len(words)):
        j = max(j, i)
        while j + 1 < len(words) and words[j + 1][1] - words[i][0] <= max_chars:
            j += 1
        if words[j][1] - words[i][0] > max_chars:
            continue  # a single word longer than the limit
        n = sum(hits[i:j + 1])
        if n > best_hits:  # ties keep the earliest window: a quote that opens its sentence reads best
            best_i, best_j, best_hits = i, j, n
    if best_hits < 0:  # no word fits at all: cut hard
        return Quote(start, start + max_chars, score, cut_after=True)
    s, e = words[best_i][0], words[best_j][1]
    e = _trim_trailing_punct(text, s, e)
    return Quote(s, e, score, cut_before=s > start, cut_after=e < end)


def _trim_trailing_punct(text: str, s: int, e: int) -> int:
    while e > s + 1 and text[e - 1] in ",;:(-–—":
        e -= 1
    return e
