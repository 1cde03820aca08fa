"""Clean plain-text dumps of scraped pages: find the title, the publication date and the body.

A scraped page flattens to one block per line: section labels, the headline, a date line, photo
captions, the article's paragraphs, then teasers of other stories, sponsored links and the headline
again. The rules below are about that structure, not about any one site:

- the body is the longest run of prose blocks (long enough, ending like a sentence), where a run may
  carry a single short line between two prose blocks (a subheading, kept; an ad label or a link to
  another story, dropped) but breaks at anything else;
- a caption is a block cut off with an ellipsis, or a block that repeats the start of one;
- the title is the headline-like line before the body, preferring one the page repeats or one
  directly above a date line; the date is the first date on a date line that is not an
  "Updated" date.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dateutil import parser as dateparser

_CLOSERS = "\"'”’»)]"
_PROSE_END = re.compile(r"[.!?:;][" + re.escape(_CLOSERS) + r"]*$")
_TRUNCATED = re.compile(r"(\.\.\.|…)[" + re.escape(_CLOSERS) + r"]*$")
_TIME_AGO = re.compile(
    r"^(\d+\s+(sec(ond)?|min(ute)?|h(ou)?r|day|week|month|year)s?\s+ago|just now|yesterday)$", re.I
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # Jun 9, 2020
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"  # 9 June 2020
    r"|\d{4}-\d{2}-\d{2}"  # 2020-06-09
    r"|\d{1,2}/\d{1,2}/\d{4})(?!\d)",  # 06/09/2020 (US order)
    re.I,
)
_UPDATED = re.compile(r"\b(?:last\s+)?(?:updated|modified|edited|revised)\b", re.I)
_BYLINE = re.compile(r"^(?:by|written by)\s+(.{3,80}?)\s*$", re.I)
_WORD = re.compile(r"\w+")
_RULE = re.compile(r"^[=\-_*~#+.]{3,}$")  # underlines and dividers: decoration, not text
# Lines pages put between paragraphs that are not the article's: ad slots, links to other stories.
_INLINE_LABEL = re.compile(
    r"^(advertisement|sponsored|ad|related|read more|read also|also read|see also|more from|watch|listen|"
    r"click here|sign up|subscribe|share|story continues|continue reading|recommended)\b", re.I)

MIN_PROSE_WORDS = 8
MAX_HEADING_WORDS = 12


@dataclass(frozen=True)
class Dump:
    title: str
    published: str  # ISO date or ""
    author: str
    text: str


def _words(s: str) -> int:
    return len(_WORD.findall(s))


def split_blocks(raw: str) -> list[str]:
    """One block per line, except paragraphs hard-wrapped over several lines, which are joined."""
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", raw.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [" ".join(line.split()) for line in para.split("\n")]
        lines = [line for line in lines if line and not _RULE.match(line)]
        if len(lines) > 1 and all(len(line) >= 40 and not _PROSE_END.search(line) for line in lines[:-1]):
            blocks.append(" ".join(lines))
        else:
            blocks.extend(lines)
    return blocks


def _caption_flags(blocks: list[str]) -> list[bool]:
    """Captions: blocks cut off with an ellipsis, and blocks repeating the start of one."""
    flags = [bool(_TRUNCATED.search(b)) for b in blocks]
    for i, b in enumerate(blocks):
        if not flags[i]:
            continue
        stem = _TRUNCATED.sub("", b).rstrip(" .…")
        if len(stem) < 20:
            continue
        for j in range(max(0, i - 2), min(len(blocks), i + 3)):
            if j != i and blocks[j].startswith(stem[: max(20, len(stem) - 3)]):
                flags[j] = True
    return flags


def _is_prose(block: str) -> bool:
    return _words(block) >= MIN_PROSE_WORDS and bool(_PROSE_END.search(block))


def _is_bridge(block: str) -> bool:
    """A short line that may stand between two paragraphs of one article (a subheading, an ad label)."""
    return 0 < _words(block) <= MAX_HEADING_WORDS and not _TIME_AGO.match(block) and not _DATE.search(block)


def _is_subheading(block: str) -> bool:
    """A bridge line worth keeping in the text: not a label, not a link to another story."""
    return _words(block) >= 2 and not _INLINE_LABEL.match(block)


def _body_span(blocks: list[str], captions: list[bool]) -> tuple[int, int]:
    """The [start, end) range of the longest run of prose blocks, by words."""
    prose = [_is_prose(b) and not c for b, c in zip(blocks, captions)]
    best, best_words = (0, 0), 0
    i = 0
    while i < len(blocks):
        if not prose[i]:
            i += 1
            continue
        start, end, j = i, i + 1, i + 1
        while j < len(blocks):
            if prose[j]:
                end = j + 1
                j += 1
            elif j + 1 < len(blocks) and prose[j + 1] and not captions[j] and _is_bridge(blocks[j]):
                j += 1  # a subheading between two paragraphs stays in the body
            else:
                break
        words = sum(_words(b) for b in blocks[start:end])
        if words > best_words:
            best, best_words = (start, end), words
        i = end
    return best


def find_date(line: str) -> str:
    """The first date on a line, ignoring anything after an 'Updated' marker. ISO or ''."""
    published_part = _UPDATED.split(line, maxsplit=1)[0]
    m = _DATE.search(published_part)
    if not m:
        return ""
    try:
        d = dateparser.parse(m.group(0).replace(".", ""), default=None).date()
        # dateutil reads "0001" as 2001; the year as written is what the page says
        d = d.replace(year=int(re.search(r"\d{4}", m.group(0)).group(0)))
    except (ValueError, OverflowError, AttributeError):
        return ""
    return d.isoformat()  # whether it is a plausible publication date is sources.make_article's call


def _pick_title(blocks: list[str], body_start: int, captions: list[bool]) -> str:
    later = set(blocks[body_start:])
    best, best_score = "", float("-inf")
    for i, b in enumerate(blocks[:body_start]):
        n = _words(b)
        if captions[i] or n < 3 or n > 30 or _TIME_AGO.match(b) or _DATE.search(b) or _BYLINE.match(b):
            continue
        score = min(n, 12) / 4
        if b in later:
            score += 3  # pages repeat their headline (page title, share box, footer)
        if i + 1 < len(blocks) and (_DATE.search(blocks[i + 1]) or _BYLINE.match(blocks[i + 1])):
            score += 2
        if b.isupper():
            score -= 4  # section labels are set in capitals
        if _PROSE_END.search(b) and not b.endswith("?"):
            score -= 2
        if score > best_score:
            best, best_score = b, score
    return best


def clean(raw: str) -> Dump:
    blocks = split_blocks(raw)
    if not blocks:
        return Dump("", "", "", "")
    captions = _caption_flags(blocks)
    start, end = _body_span(blocks, captions)
    if end == 0:  # no prose at all: keep everything rather than lose the text
        body = blocks
    else:
        body = [b for b, c in zip(blocks[start:end], captions[start:end])
                if not c and (_is_prose(b) or _is_subheading(b))]
    head = blocks[:start]
    published = next((d for d in map(find_date, head) if d), "")
    author = next((m.group(1) for m in map(_BYLINE.match, head) if m), "")
    title = _pick_title(blocks, start, captions)
    return Dump(title=title, published=published, author=author, text="\n\n".join(body))
