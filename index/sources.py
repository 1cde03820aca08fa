"""Find the files of an archive and read each into `Article` records, never raising on bad input.

Readers yield `Article`s and `SourceError`s in file order; a bad record costs that record, a bad file
costs that file, and nothing stops the rest.
"""
from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import io
import json
import os
import re
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from index import extract
from index.config import SourceSpec
from index.extract import ExtractError, Extracted
from index.records import Article, SourceError
from index.textdump import find_date
from index.urls import normalize_url, site_of

Item = Article | SourceError

# Raise when reading or extraction changes what a file yields: the next build then reads every file
# again instead of trusting unchanged file signatures (only articles whose text changed are re-embedded).
READER_VERSION = 2

_SUFFIXES = {
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".warc": "warc",
    ".txt": "text", ".md": "markdown", ".markdown": "markdown",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
}


def format_of(path: Path) -> str | None:
    """The reader for a file by its name; a trailing .gz is looked through."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return _SUFFIXES.get(os.path.splitext(name)[1])


def discover(specs: tuple[SourceSpec, ...], base_dir: Path) -> Iterator[tuple[Path, SourceSpec] | SourceError]:
    """Every readable file of the sources, once each, in a stable order. A file named by its own
    entry is read with that entry's format and fields, even when a folder entry also holds it."""
    chosen: dict[Path, tuple[int, SourceSpec]] = {}  # path -> (specificity, spec); dicts keep first-seen order
    for spec in specs:
        root = Path(spec.path).expanduser()
        if not root.is_absolute():
            root = base_dir / root
        if root.is_file():
            found, rank = [root], 2
        elif root.is_dir():
            found, rank = sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p, root)), 0
        elif glob.has_magic(str(root)):
            found, rank = sorted(Path(p) for p in glob.glob(str(root), recursive=True) if os.path.isfile(p)), 1
        else:
            yield SourceError(str(root), "no such file or folder")
            continue
        for path in found:
            if spec.format == "auto" and format_of(path) is None:
                if rank == 2:
                    yield SourceError(str(path), "unknown file type; set format in its [[sources]] entry")
                continue  # folders hold other files too (images, styles); those are not articles
            if path not in chosen or chosen[path][0] < rank:
                chosen[path] = (rank, spec)
    for path, (_, spec) in chosen.items():
        yield path, spec


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def read_file(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    """Articles of one file. `shown` is how the file is named in ids, sources and messages."""
    fmt = spec.format if spec.format != "auto" else format_of(path)
    reader = {"html": _read_html, "warc": _read_warc, "text": _read_text, "markdown": _read_markdown,
              "jsonl": _read_jsonl, "csv": _read_csv}[fmt]
    try:
        yield from reader(path, spec, shown, max_bytes)
    except PermissionError:
        yield SourceError(shown, "cannot read: permission denied")
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        yield SourceError(shown, f"damaged or truncated gzip data ({e})")
    except OSError as e:
        yield SourceError(shown, f"cannot read: {e.strerror or e}")


def _open_bytes(path: Path, shown: str, max_bytes: int) -> bytes:
    if path.stat().st_size > max_bytes and not path.name.lower().endswith(".gz"):
        raise _TooLarge(f"{path.stat().st_size / 2**20:.0f} MB is over the {max_bytes / 2**20:.0f} MB limit for one article")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge(f"over the {max_bytes / 2**20:.0f} MB limit for one article")
    return data


class _TooLarge(Exception):
    pass


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ExtractError(f"not valid UTF-8 (bad byte at offset {e.start})") from None


def _single(path: Path, shown: str, max_bytes: int, parse) -> Iterator[Item]:
    try:
        ex = parse(_open_bytes(path, shown, max_bytes))
    except (ExtractError, _TooLarge) as e:
        yield SourceError(shown, str(e))
        return
    yield make_article(ex, shown, "", position=0)


def _read_html(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    yield from _single(path, shown, max_bytes, extract.html)


def _read_text(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    yield from _single(path, shown, max_bytes, lambda b: extract.text_dump(_decode(b)))


def _read_markdown(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    yield from _single(path, shown, max_bytes, lambda b: extract.markdown(_decode(b)))


def _read_warc(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    found = 0

    def damaged(why: str) -> SourceError:
        return SourceError(shown, f"WARC damaged or truncated after {found} HTML records ({why})")

    with open(path, "rb") as f:
        try:
            for n, record in enumerate(ArchiveIterator(f)):
                if record.format != "warc":  # warcio reads anything as old ARC text; we want WARC
                    yield SourceError(shown, "not a WARC file") if n == 0 else damaged("unexpected data")
                    return
                if record.rec_type not in ("response", "resource"):
                    continue
                ctype = (record.http_headers.get_header("Content-Type") if record.http_headers
                         else record.rec_headers.get_header("Content-Type")) or ""
                status = record.http_headers.get_statuscode() if record.http_headers else "200"
                if "html" not in ctype.lower() or status != "200":
                    continue
                found += 1
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                rid = (record.rec_headers.get_header("WARC-Record-ID") or f"record-{found}").strip("<>")
                payload = record.content_stream().read(max_bytes + 1)
                if len(payload) > max_bytes:
                    yield SourceError(shown, f"record over the {max_bytes / 2**20:.0f} MB limit", f"#{rid}")
                    continue
                if getattr(record.raw_stream, "limit", 0):  # the record ended before its Content-Length
                    found -= 1
                    yield damaged(f"record {rid} is cut short")
                    return
                try:
                    ex = extract.html(payload, url=uri)
                except ExtractError as e:
                    yield SourceError(shown, str(e), f"#{rid}")
                    continue
                yield make_article(ex, shown, rid, position=found)
        except ArchiveLoadFailed as e:
            yield damaged(str(e).splitlines()[0][:120]) if found else SourceError(
                shown, f"not a WARC file ({str(e).splitlines()[0][:120]})")
            return
        except (EOFError, zlib.error, gzip.BadGzipFile, ValueError) as e:
            yield damaged(str(e) or type(e).__name__)
            return
    if found == 0:
        yield SourceError(shown, "no HTML response records in the WARC file")


def _record_article(row: dict, spec: SourceSpec, shown: str, where: str, position: int) -> Item:
    fm = spec.field_map()
    text = row.get(fm["text"])
    if not isinstance(text, str) or not text.strip():
        return SourceError(shown, f"no text in field {fm['text']!r}", where)
    value = {k: row.get(v) for k, v in fm.items()}
    get = lambda k: " ".join(str(value[k]).split()) if value[k] not in (None, "") else ""  # noqa: E731
    url = get("url")
    ex = Extracted(title=get("title"), text=_clean_text(text), url=url, published=normalize_date(get("published")),
                   author=get("author"), site=get("site") or site_of(url))
    return make_article(ex, shown, where.lstrip(":#"), position=position, explicit_id=get("id"))


def _read_jsonl(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = f":{lineno}"
            if not raw.strip():
                continue
            if len(raw) > max_bytes:
                yield SourceError(shown, f"line over the {max_bytes / 2**20:.0f} MB limit", where)
                continue
            try:
                row = json.loads(_decode(raw))
            except ExtractError as e:
                yield SourceError(shown, str(e), where)
                continue
            except json.JSONDecodeError as e:
                yield SourceError(shown, f"not JSON ({e.msg} at column {e.colno})", where)
                continue
            if not isinstance(row, dict):
                yield SourceError(shown, "not a JSON object", where)
                continue
            yield _record_article(row, spec, shown, where, lineno)


def _read_csv(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    csv.field_size_limit(max_bytes)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fb, io.TextIOWrapper(fb, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        try:
            header = reader.fieldnames or []
        except UnicodeDecodeError as e:
            yield SourceError(shown, f"not valid UTF-8 (bad byte at offset {e.start})")
            return
        text_col = spec.field_map()["text"]
        if text_col not in header:
            yield SourceError(shown, f"no {text_col!r} column (columns: {', '.join(header) or 'none'})")
            return
        while True:
            where = f":{reader.line_num + 1}"
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as e:
                yield SourceError(shown, f"not valid UTF-8 (bad byte at offset {e.start}); the rest of the file is skipped")
                return
            except csv.Error as e:
                yield SourceError(shown, f"bad CSV ({e})", where)
                continue
            yield _record_article(row, spec, shown, where, reader.line_num)


def _clean_text(text: str) -> str:
    paras = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")))
    return "\n\n".join(p for p in paras if p)


def normalize_date(value: str) -> str:
    """ISO date from what exports hold: ISO timestamps, 'June 9, 2020', '9 Jun 2020'. '' if none."""
    if not value:
        return ""
    m = re.match(r"^(\d{4}-\d{2}-\d{2})", value)
    if m:
        try:
            return date.fromisoformat(m.group(1)).isoformat()
        except ValueError:
            return ""
    return find_date(value)


def make_article(ex: Extracted, source: str, record: str, position: int, explicit_id: str = "") -> Article:
    """Ids are stable: the export's own id, else the URL, else where the article sits in its file."""
    if explicit_id:
        key = f"id:{source}:{explicit_id}"
    elif ex.url:
        key = f"url:{normalize_url(ex.url)}"
    else:
        key = f"pos:{source}:{position}"
    article_id = id_for(key)
    content = "\x1f".join((ex.title, ex.text, ex.url, ex.published, ex.author, ex.site))
    return Article(
        article_id=article_id, source=source, record=record, title=ex.title or _fallback_title(ex.text),
        text=ex.text, url=ex.url, published=ex.published, author=ex.author, site=ex.site,
        content_hash=hashlib.sha256(content.encode()).hexdigest()[:16],
    )


def id_for(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def url_id(url: str) -> str:
    """The id an article with this URL (and no export id) has."""
    return id_for(f"url:{normalize_url(url)}")


def _fallback_title(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    words = first.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")
