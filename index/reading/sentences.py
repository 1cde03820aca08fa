"""Sentence boundaries with character offsets, for chunks, quotes and summaries.

A rule-based splitter: a sentence ends at . ! or ? (plus closing quotes and brackets) before
whitespace and a capital, digit or opening quote, unless the word before the stop is a known
abbreviation or an initial; a line break always ends one. Offsets always index the text given,
so text[start:end] is the sentence verbatim.
"""
from __future__ import annotations

import re

_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "e.g", "i.e", "inc", "ltd",
    "co", "corp", "gen", "gov", "sen", "rep", "rev", "sgt", "capt", "col", "lt", "maj", "adm", "pres",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "no", "nos", "vol", "pp", "fig", "approx", "dept", "est", "univ", "ave", "blvd", "u.s", "u.k", "u.n",
}
# A run of stops is taken whole and never entered from its middle (the look-behind), so a run of
# 60,000 dots costs one pass, not one pass per dot.
_CANDIDATE = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]]*+(?=\s+[\"'“‘«(\[]?[A-Z0-9À-Ý])")
_PARA = re.compile(r"\n")  # every line of our texts is a paragraph, heading or list item
_WORD = re.compile(r"\S+")


def _ends_sentence(text: str, stop: int) -> bool:
    """Is the punctuation at text[stop] a sentence end, judged by the word before it?"""
    if text[stop] != ".":
        return True
    word_start = stop
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "\"'“‘(":
        word_start -= 1
    word = text[word_start:stop].lower()
    if word in _ABBREV:
        return False
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "J. Smith"
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        return False  # "U.S.", "a.m." before a capitalised name
    return True


def split(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    para_start = 0
    for para_end in [m.start() for m in _PARA.finditer(text)] + [len(text)]:
        start = para_start
        for m in _CANDIDATE.finditer(text, para_start, para_end):
            if _ends_sentence(text, m.start()):
                spans.append((start, m.end()))
                start = m.end()
        spans.append((start, para_end))
        para_start = para_end
    return [t for t in (_trim(text, s, e) for s, e in spans) if t]


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Offsets of each whitespace-separated word in text[start:end]."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    if spans and start > 0 and not text[start - 1].isspace():
        spans.pop(0)  # the tail of a word that began before `start` is not a word of its own
    return spans
