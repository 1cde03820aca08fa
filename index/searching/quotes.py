"""The quote of a passage: the sentence most likely to answer (chosen in bot/answer.py), widened by its
better-scoring neighbours to up to three sentences while the quote stays short, cut from the article
text by offsets.

A sentence too long to quote whole is cut on words: the window that holds the most of the question's
rare words and of the kind of thing asked for, starting at the sentence's start unless a later window
holds clearly more. Every cut is marked, so the reply shows an ellipsis.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.searching import evidence

from index.reading import sentences

MAX_SENTENCES = 3
START_PREFERENCE = 0.8  # a window at the sentence's start wins unless a later one holds 1/0.8 as much
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Quote:
    start: int
    end: int
    score: float
    cut_before: bool = False
    cut_after: bool = False


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as article offsets (chunks cut inside a sentence are clipped)."""
    return [(start + s, start + e) for s, e in sentences.split(text[start:end])]


def choose(text: str, spans: list[tuple[int, int]], scores: list[float], best: int, q: evidence.Question,
           max_chars: int) -> Quote:
    """The quote around spans[best], widened by the better of its neighbours while it fits."""
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
    return _cut(text, start, end, q, max_chars, scores[best])


def _cut(text: str, start: int, end: int, q: evidence.Question, max_chars: int, score: float) -> Quote:
    """A window of whole words, at most max_chars long, holding the most of what the question asks."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]  # linear in the sentence
    weight = _word_weights(text, words, q)
    windows = []
    j = 0
    for i in range(len(words)):
        j = max(j, i)
        while j + 1 < len(words) and words[j + 1][1] - words[i][0] <= max_chars:
            j += 1
        if words[j][1] - words[i][0] <= max_chars:  # else a single word longer than the limit
            windows.append((sum(weight[i:j + 1]), i, j))
    if not windows:  # no word fits at all: cut hard
        return Quote(start, start + max_chars, score, cut_after=True)
    top = max(w for w, _, _ in windows)
    # the earliest window close to the best: a quote that opens its sentence reads best
    _, i, j = next(x for x in windows if x[0] >= START_PREFERENCE * top)
    s, e = words[i][0], words[j][1]
    e = _trim_trailing_punct(text, s, e)
    return Quote(s, e, score, cut_before=s > start, cut_after=e < end)


def _word_weights(text: str, words: list[tuple[int, int]], q: evidence.Question) -> list[float]:
    """How much each word tells: the question's words by their rarity, and words of the kind asked for
    (a number for "how much", a name for "who", ...) that the question does not already say."""
    prefixes = [(stem.rstrip("ie") if len(stem) > 4 else stem, w) for stem, w in q.weights]  # porter: y->i, -e
    top = max((w for _, w in prefixes), default=1.0)
    out = []
    for s, e in words:
        word = text[s:e].strip(".,;:!?\"'“”‘’()[]")
        low = word.lower()
        w = max((w for p, w in prefixes if low.startswith(p)), default=0.0)
        if low and low not in q.words and evidence.kind_word(q.kind, word):
            w = max(w, top)
        out.append(w)
    return out


def _trim_trailing_punct(text: str, s: int, e: int) -> int:
    while e > s + 1 and text[e - 1] in ",;:(-–—":
        e -= 1
    return e
