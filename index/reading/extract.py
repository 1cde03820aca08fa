"""Main text and metadata from one document: HTML pages, text dumps and Markdown.

Each function takes the document as read and returns `Extracted`; reading files, ids and hashes are
`sources.py`'s business. A function raises `ExtractError` with a one-line reason when the document
holds no article.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from index.reading import textdump
from index.reading.urls import site_of


MIN_ARTICLE_WORDS = 5


class ExtractError(ValueError):
    """The document holds no article text; the message says why, in one line."""


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str
    url: str = ""
    published: str = ""
    author: str = ""
    site: str = ""


# scripts written without spaces between words: a character is about a word (Thai: about a syllable)
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f]")


def word_count(text: str) -> int:
    """Words as a reader counts them: runs between spaces, and each character of a script written
    without spaces (Chinese, Japanese, Thai, Lao, Burmese)."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    return len(_UNSPACED.sub(" ", text).split()) + unspaced


def _unicode_bom(data: bytes) -> str | None:
    """A page saved as UTF-16 or UTF-32 (with the byte-order mark those encodings start with), as text."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 10


def html(data: bytes, url: str = "") -> Extracted:
    """Article body and metadata with trafilatura, favouring precision (scores best on real news pages)."""
    page: bytes | str | None = _unicode_bom(data)
    if page is None:
        if _looks_binary(data):
            raise ExtractError("not an HTML page (binary data)")
        page = data
    import trafilatura  # heavy import, only when there is HTML to read
    from trafilatura.utils import load_html

    tree = load_html(page)
    doc = tree is not None and trafilatura.bare_extraction(
        _bounded(tree), url=url or None, favor_precision=True, with_metadata=True, include_comments=False
    )
    text = (doc.text if doc else "") or ""
    if word_count(text) < MIN_ARTICLE_WORDS:  # a menu or a cookie notice, not an article
        raise ExtractError("no article text found in the page")
    page_url = url or doc.url or ""
    title = _one_line(doc.title or "")
    return Extracted(
        title=title,
        text=_drop_leading_title(text.strip(), title),
        url=page_url,
        published=(doc.date or "")[:10],
        author=_one_line(doc.author or ""),
        site=_one_line(doc.sitename or "") or site_of(page_url),
    )


# trafilatura's time grows faster than quadratically in the children of one element: 16,000 <b> in one
# <p> (141 KB) take 22 s, 1,000 take well under a second. No real page's element has that many.
MAX_CHILDREN = 1000
_BLOCKS = frozenset("p div li ul ol dl dt dd section article main header footer aside nav figure blockquote pre "
                    "table tbody thead tfoot tr h1 h2 h3 h4 h5 h6".split())
_INLINE = frozenset("a abbr b big cite code del dfn em font i img ins kbd label mark q s small span strike strong sub "
                    "sup time tt u var".split())


def _bounded(tree):
    """The page with every element of more than MAX_CHILDREN children other than blocks (bold, links,
    cells, line breaks) flattened to its text; paragraphs and list items stay, however many."""
    from lxml import etree

    crowded_ones = [el for el in tree.iter() if len(el) > MAX_CHILDREN
                    and sum(child.tag not in _BLOCKS for child in el) > MAX_CHILDREN]
    for crowded in crowded_ones:
        if crowded.getparent() is None and crowded is not tree:
            continue  # inside an element flattened already
        # joined here in one pass (lxml's strip_tags merges text nodes one by one, quadratically); cells
        # and line breaks part their words with a space
        pieces = [crowded.text or ""]
        for child in crowded:
            if isinstance(child.tag, str):
                pieces.append("".join(child.itertext(etree.Element)))
                if child.tag not in _INLINE:
                    pieces.append(" ")
            pieces.append(child.tail or "")
        attrib, tail = dict(crowded.attrib), crowded.tail
        crowded.clear()
        crowded.attrib.update(attrib)
        crowded.text, crowded.tail = "".join(pieces), tail
    return tree


def text_dump(raw: str) -> Extracted:
    dump = textdump.clean(raw)
    if not dump.text.strip():
        raise ExtractError("empty text file")
    return Extracted(title=dump.title, text=dump.text, published=dump.published, author=dump.author)


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
# Each of these stops at the next opening mark it could start at (a link text holds no brackets, a
# target no spaces or unbalanced parentheses, an emphasis never crosses its own delimiter), so no
# input makes them rescan a line once per character: `[` x 40,000 or `_a ` repeated stay linear.
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\((?:[^()\s]|\([^()\s]*\))*+(?:\s+\"[^\"\n]*\")?\)")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.M)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)((?:(?!\1)[^\n])+?)(?<=\S)\1")


def markdown(raw: str) -> Extracted:
    """Front matter (title, date, url, author) if any, the first heading as title, plain-ish text."""
    meta: dict[str, str] = {}
    m = _FRONT_MATTER.match(raw)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        raw = raw[m.end():]
    title = meta.get("title", "")
    if not title:
        h = re.search(r"^#\s+(.+)$", raw, re.M)
        if h:
            title = h.group(1).strip()
            raw = raw[: h.start()] + raw[h.end():]
    text = _MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", _MD_HEADING.sub("", raw)))
    text = "\n\n".join(_unwrap(block) for block in re.split(r"\n\s*\n", text) if block.strip())
    if not text:
        raise ExtractError("empty Markdown file")
    published = textdump.find_date(meta.get("date", "") or meta.get("published", ""))
    url = meta.get("url", "") or meta.get("link", "")
    return Extracted(title=title, text=text, url=url, published=published,
                     author=meta.get("author", ""), site=meta.get("site", "").lower() or site_of(url))


def _drop_leading_title(text: str, title: str) -> str:
    """Pages repeat their headline at the top of the body; the title is kept apart already."""
    first, _, rest = text.partition("\n")
    if title and rest and _one_line(first).casefold() == title.casefold():
        return rest.lstrip()
    return text


def _unwrap(block: str) -> str:
    """Join a hard-wrapped paragraph into one line; list items and the like keep their lines."""
    lines = [line.strip() for line in block.strip().split("\n")]
    if any(re.match(r"^([-*+>]|\d+[.)])\s", line) for line in lines):
        return "\n".join(lines)
    return " ".join(lines)


def _one_line(s: str) -> str:
    return " ".join(s.split())
