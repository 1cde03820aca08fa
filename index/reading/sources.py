"""Find the files of an archive and read each into `Article` records, never raising on bad input.

Readers yield `Article`s and `SourceError`s in file order; a bad record costs that record, a bad file
costs that file, and nothing stops the rest.
"""
from __future__ import annotations

import csv
import fnmatch
import functools
import glob
import gzip
import hashlib
import io
import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

from index.reading import extract

from index.reading import safe, warc
from index.config import SourceSpec
from index.reading.extract import ExtractError, Extracted
from index.records import Article, Place, SourceError
from index.reading.textdump import find_date
from index.reading.urls import normalize_url, site_of, web_url

log = logging.getLogger("archivist.sources")

Item = Article | SourceError

# Raise when reading or extraction changes what a file yields: the next build then reads every file
# again instead of trusting unchanged file signatures (only articles whose text changed are re-embedded).
READER_VERSION = 4

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
    chosen: dict[Path, tuple[tuple[int, int], SourceSpec]] = {}  # path -> (specificity, spec); dicts keep first-seen order
    for spec in specs:
        root = Path(spec.path).expanduser()
        if not root.is_absolute():
            root = base_dir / root
        # a file's own entry beats a glob's, a glob's a folder's, and a deeper folder a shallower one
        if root.is_file():
            found, rank, folder = [root], (2, 0), None
        elif root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p, root))
            rank, folder = (0, len(root.parts)), root
        elif glob.has_magic(str(root)):
            folder = folder_of(root)
            found = _glob_files(root, folder)
            rank = (1, len(folder.parts))
        else:
            yield SourceError(safe.path_text(str(root)), "no such file or folder")
            continue
        # links may not lead out of the source's folder, nor out of its own folder for a file named alone
        within = root.parent if rank[0] == 2 else folder
        inside = within.resolve() if within is not None and not spec.follow_symlinks else None
        for path in found:
            if spec.format == "auto" and format_of(path) is None:
                if rank[0] == 2:
                    yield SourceError(str(path), "unknown file type; set format in its [[sources]] entry")
                continue  # folders hold other files too (images, styles); those are not articles
            if inside is not None and not path.resolve().is_relative_to(inside):
                # a link out of the archive (to /etc/passwd, say) must not get its target indexed and quoted
                yield SourceError(safe.path_text(str(path)), "a link to a file outside the source folder; not followed "
                                  "(set follow_symlinks = true in its [[sources]] entry to follow it)")
                continue
            if path not in chosen or chosen[path][0] < rank:
                chosen[path] = (rank, spec)
    for path, (_, spec) in chosen.items():
        yield path, spec


def spec_for(path: Path, specs: tuple[SourceSpec, ...], base_dir: Path) -> SourceSpec:
    """How a build would read this file or folder: the format and field names of the configured source
    that holds it most closely (a file's own entry before a folder's), else the defaults."""
    path = path.absolute()
    best, best_len = SourceSpec(path=str(path)), -1
    for spec in specs:
        pattern = Path(spec.path).expanduser()
        pattern = pattern if pattern.is_absolute() else base_dir / pattern
        if glob.has_magic(str(pattern)) and path.is_file() and not fnmatch.fnmatch(str(path), str(pattern.absolute())):
            continue
        root = folder_of(pattern).absolute()
        if (path == root or path.is_relative_to(root)) and len(root.parts) > best_len:
            best, best_len = replace(spec, path=str(path)), len(root.parts)
    return best


def specs_for(path: Path, specs: tuple[SourceSpec, ...], base_dir: Path) -> tuple[SourceSpec, ...]:
    """How a build reads a file or folder given on the command line: as `spec_for` says, and, for a
    folder, with the configured entries inside it too (a subfolder's site, an export's field names), each
    for the files it holds most closely, as the configured build reads them."""
    path = path.absolute()
    inner = []
    if path.is_dir():
        for spec in specs:
            pattern = Path(spec.path).expanduser()
            pattern = (pattern if pattern.is_absolute() else base_dir / pattern).absolute()
            if folder_of(pattern) != path and folder_of(pattern).is_relative_to(path):
                inner.append(replace(spec, path=str(pattern)))
    return (spec_for(path, specs, base_dir), *inner)


def folder_of(path: Path) -> Path:
    """The file or folder a source path names; for a glob, the folder it searches: its longest leading
    part without wildcards."""
    parts = []
    for part in path.parts:
        if glob.has_magic(part):
            break
        parts.append(part)
    return Path(*parts)


def _glob_files(pattern: Path, folder: Path) -> list[Path]:
    """The files a glob names, each real file once, sorted. The folders are walked without entering a
    link to a folder: glob's own `**` does, and a link back to `.` makes it loop (`a/a/a/...`, or with
    three such links, without end). Names starting with a dot match only a part that starts with one."""
    pats = pattern.relative_to(folder).parts
    found = []
    for top, dirs, files in os.walk(folder):  # followlinks=False
        rel = Path(top).relative_to(folder).parts
        deeper = "**" in pats or len(rel) + 1 < len(pats)  # without **, no deeper than the pattern reaches
        dirs[:] = [d for d in dirs if deeper and (not d.startswith(".") or any(p.startswith(".") for p in pats))]
        found += [os.path.join(top, n) for n in files if _glob_match((*rel, n), pats)]
    seen: set[str] = set()
    out = []
    for path in sorted(found, key=lambda p: (os.path.islink(p), p)):  # a file itself before a link to it
        real = os.path.realpath(path)
        if real not in seen and os.path.isfile(path):
            seen.add(real)
            out.append(Path(path))
    return sorted(out)


def _glob_match(parts: tuple[str, ...], pats: tuple[str, ...]) -> bool:
    """Whether path parts match glob parts, `**` standing for any number of folders (none included)."""
    if not pats:
        return not parts
    if pats[0] == "**":
        return _glob_match(parts, pats[1:]) or (bool(parts) and not parts[0].startswith(".")
                                                and _glob_match(parts[1:], pats))
    return (bool(parts) and (not parts[0].startswith(".") or pats[0].startswith("."))
            and fnmatch.fnmatchcase(parts[0], pats[0]) and _glob_match(parts[1:], pats[1:]))


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def reading_key(spec: SourceSpec) -> str:
    """What, besides the file's bytes, decides its records: its format, field names and site. A file
    whose entry changes these is read again, though it did not change on disk."""
    how = json.dumps([spec.format, sorted(spec.fields), spec.site, READER_VERSION])
    return hashlib.sha256(how.encode()).hexdigest()[:12]


def read_file(path: Path, spec: SourceSpec, shown: str, max_bytes: int, start: Place | None = None,
              at: Callable[[Place | None], None] | None = None) -> Iterator[Item]:
    """Articles of one file. `shown` is how the file is named in ids, sources and messages. In a WARC,
    `at` is told each record as its reading begins (None once it is done), and `start` skips the
    records before it; other formats ignore both."""
    fmt = spec.format if spec.format != "auto" else format_of(path)
    reader = {"html": _read_html, "warc": _read_warc, "text": _read_text, "markdown": _read_markdown,
              "jsonl": _read_jsonl, "csv": _read_csv}[fmt]
    if fmt == "warc":
        reader = functools.partial(_read_warc, start=start or Place(0), at=at or (lambda place: None))
    try:
        for got in reader(path, spec, shown, max_bytes):
            if spec.site and isinstance(got, Article) and not got.site:  # the source's site, for URL-less articles
                got = replace(got, site=spec.site,
                              content_hash=hashlib.sha256(f"{got.content_hash}\x1f{spec.site}".encode()).hexdigest()[:16])
            yield got
    except PermissionError:
        yield SourceError(shown, "cannot read: permission denied")
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        yield SourceError(shown, f"damaged or truncated gzip data ({e})")
    except OSError as e:
        yield SourceError(shown, f"cannot read: {e.strerror or e}")
    except Exception as e:  # a library's bug on one hostile file is that file's error, never the build's
        yield SourceError(shown, f"cannot read ({_why(e)})")


def _first_line(e: BaseException) -> str:
    return next((line.strip() for line in str(e).splitlines() if line.strip()), "")[:160]


def _why(e: BaseException) -> str:
    first = _first_line(e)
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


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


def _warc_record(data: bytes):
    """One record's bytes parsed by warcio (HTTP headers, chunked and compressed bodies). A response
    without WARC-Target-URI reaches us with no URI instead of failing inside warcio: the loader's check
    is swapped before iteration starts, when warcio first reads it."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.recordloader import ArcWarcRecordLoader

    class Loader(ArcWarcRecordLoader):
        def _ensure_target_uri_format(self, rec_headers):
            return super()._ensure_target_uri_format(rec_headers) or ""

    records = ArchiveIterator(io.BytesIO(data))
    records.loader = Loader(verify_http=False, arc2warc=False)  # ArchiveIterator's own defaults
    return next(iter(records))


def _read_warc(path: Path, spec: SourceSpec, shown: str, max_bytes: int, start: Place,
               at: Callable[[Place | None], None]) -> Iterator[Item]:
    damage, found = warc.Damage(), start.found
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"  # by content: one gzip member or many, whatever the name says
        f.seek(0)
        try:
            for n, rec in enumerate(warc.records(f, gzipped, max_bytes, damage)):
                if n < start.record or rec.headers.get("warc-type") not in ("response", "resource"):
                    continue  # before `start`: read by an earlier process, framed again for the damage count
                rid = rec.headers.get("warc-record-id", f"record-{n + 1}").strip("<>")
                if rec.too_large:
                    if b"html" in rec.data.partition(b"\r\n\r\n")[2].partition(b"\r\n\r\n")[0].lower():
                        yield SourceError(shown, f"record over the {max_bytes / 2**20:.0f} MB limit", f"#{rid}")
                    continue
                at(Place(n, rid, found))
                try:  # whatever one record holds costs that record only
                    record = _warc_record(rec.data)
                    ctype = (record.http_headers.get_header("Content-Type") if record.http_headers
                             else record.rec_headers.get_header("Content-Type")) or ""
                    status = record.http_headers.get_statuscode() if record.http_headers else "200"
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if uri is None:
                        yield SourceError(shown, f"{record.rec_type} record without WARC-Target-URI; skipped", f"#{rid}")
                        continue
                    if "html" not in ctype.lower() or status != "200":
                        continue
                    found += 1
                    payload = record.content_stream().read(max_bytes + 1)
                    if len(payload) > max_bytes:
                        yield SourceError(shown, f"record over the {max_bytes / 2**20:.0f} MB limit", f"#{rid}")
                        continue
                    yield make_article(extract.html(payload, url=uri), shown, rid, position=found)
                except ExtractError as e:
                    yield SourceError(shown, str(e), f"#{rid}")
                except Exception as e:
                    yield SourceError(shown, f"cannot read the record ({_why(e)})", f"#{rid}")
                finally:
                    at(None)
        except warc.NotWarc as e:
            yield SourceError(shown, f"not a WARC file{f' ({e})' if str(e) else ''}")
            return
    if damage:
        yield SourceError(shown, _damage_text(damage, found))
    elif found == 0:
        yield SourceError(shown, "no HTML response records in the WARC file")


def _damage_text(damage: warc.Damage, found: int) -> str:
    parts = []
    if damage.lost:
        parts.append(f"{damage.lost} record{'s' * (damage.lost != 1)} lost ({'; '.join(damage.reasons[:3])}), "
                     f"reading went on after {'each' if damage.lost > 1 else 'it'}")
    if damage.stray:
        parts.append(f"{damage.stray} stretch{'es' * (damage.stray != 1)} of stray bytes between records skipped")
    if damage.cut_short:
        parts.append(f"cut short inside {safe.name(damage.cut_short[:80])}")
    return f"WARC damaged: {', '.join(parts)}; {found} HTML record{'s' * (found != 1)} read"


def _record_article(row: dict, spec: SourceSpec, shown: str, where: str, position: int) -> Item:
    names = spec.field_names()
    value = {ours: next((row[n] for n in theirs if row.get(n) not in (None, "")), None) for ours, theirs in names.items()}
    text = value["text"]
    if not isinstance(text, str) or not text.strip():
        return SourceError(shown, f"no text in field {' or '.join(map(repr, names['text']))}", where)
    get = lambda k: " ".join(str(value[k]).split()) if value[k] not in (None, "") else ""  # noqa: E731
    try:  # whatever one record holds costs that record only
        url = get("url")
        ex = Extracted(title=get("title"), text=_clean_text(text), url=url, published=normalize_date(get("published")),
                       author=get("author"), site=get("site"))
        return make_article(ex, shown, get("id") or where.lstrip(":#"), position=position, explicit_id=get("id"))
    except Exception as e:
        return SourceError(shown, f"cannot read the record ({_why(e)})", where)


def _lines(f, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) of a binary file, reading at most `max_bytes` + 1 at a time: a longer line
    is passed over in bounded pieces and given as None, so no line, however long, is held in memory."""
    lineno = 0
    while True:
        raw = f.readline(max_bytes + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = f.readline(2**20)
            yield lineno, None
        else:
            yield lineno, raw


def _read_jsonl(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        for lineno, raw in _lines(f, max_bytes):
            where = f":{lineno}"
            if raw is None:
                yield SourceError(shown, f"line over the {max_bytes / 2**20:.0f} MB limit; skipped", where)
                continue
            if not raw.strip():
                continue
            try:
                row = json.loads(_decode(raw))
            except ExtractError as e:
                yield SourceError(shown, str(e), where)
                continue
            except (ValueError, RecursionError) as e:  # ValueError: also a number past Python's 4,300 digits
                why = (f"{e.msg} at column {e.colno}" if isinstance(e, json.JSONDecodeError)
                       else "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0])
                yield SourceError(shown, f"not JSON ({why})", where)
                continue
            if not isinstance(row, dict):
                yield SourceError(shown, "not a JSON object", where)
                continue
            yield _record_article(row, spec, shown, where, lineno)


def _read_csv(path: Path, spec: SourceSpec, shown: str, max_bytes: int) -> Iterator[Item]:
    csv.field_size_limit(max_bytes)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    too_long: list[int] = []

    def text_lines(f):
        for lineno, raw in _lines(f, max_bytes):
            if raw is None:
                too_long.append(lineno)
                yield "\n"  # an empty row in its place keeps the line count; the row is reported below
            else:
                yield raw.decode("utf-8-sig" if lineno == 1 else "utf-8")

    with opener(path, "rb") as fb:
        reader = csv.DictReader(text_lines(fb))
        try:
            header = reader.fieldnames or []
        except UnicodeDecodeError as e:
            yield SourceError(shown, f"not valid UTF-8 (bad byte at offset {e.start})")
            return
        text_cols = spec.field_names()["text"]
        if not set(text_cols) & set(header):
            yield SourceError(shown, f"no {' or '.join(map(repr, text_cols))} column (columns: {', '.join(header) or 'none'})")
            return
        while True:
            first = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                row = None
            except UnicodeDecodeError as e:
                yield SourceError(shown, f"not valid UTF-8 (bad byte at offset {e.start}); the rest of the file is skipped")
                return
            except csv.Error as e:
                yield SourceError(shown, f"bad CSV ({e})", f":{first}")
                continue
            while too_long and too_long[0] <= reader.line_num:
                yield SourceError(shown, f"line over the {max_bytes / 2**20:.0f} MB limit; skipped", f":{too_long.pop(0)}")
            if row is None:
                return
            swallowed = _swallowed_rows(row, header) if reader.line_num > first else None
            if swallowed is None:
                yield _record_article(row, spec, shown, f":{first}", first)
                continue
            yield SourceError(shown, f"unbalanced quote: a field runs on to line {reader.line_num}, taking in "
                              f"{len(swallowed)} rows; this row is skipped, the rows it took in are read on their own",
                              f":{first}")
            for i, taken in enumerate(swallowed, first + 1):
                yield _record_article(taken, spec, shown, f":{i}", i)


def _swallowed_rows(row: dict, header: list[str]) -> list[dict] | None:
    """The rows an open quote took in, if this many-line row looks like one: most lines of its longest
    field after the first parse as rows as wide as the header. None when it reads as a long text."""
    longest = max((v for v in row.values() if isinstance(v, str)), key=len, default="")
    lines = [line for line in longest.split("\n")[1:] if line.strip()]
    rows = [r for r in csv.reader(lines) if len(r) == len(header)]
    if not rows or len(rows) * 2 < len(lines):
        return None
    return [dict(zip(header, r)) for r in rows]


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
    """Ids are stable: the export's own id, else the URL, else where the article sits in its file.
    Only a web link is kept as the URL, only a plausible date as the date of publication, each with a
    warning when it is dropped; the site is the URL's host, so one site has one name in every format."""
    # every reader's text leaves through here: valid Unicode from now on (a JSON "\\ud800" is not)
    ex = replace(ex, **{f: safe.valid(getattr(ex, f)) for f in ("title", "text", "url", "published", "author", "site")})
    where = f"{safe.name(source)}{'#' + safe.name(record) if record else ''}"
    url = web_url(ex.url)
    if ex.url and not url:
        log.warning("warning: %s: %s is not a web link; the article is kept without it", where, safe.name(ex.url[:200]))
    published = ex.published
    if published and not _plausible(published):
        log.warning("warning: %s: %s is not a plausible date of publication; the article is kept without it",
                    where, safe.name(published[:40]))
        published = ""
    site = site_of(url) or ex.site
    if explicit_id:
        key = f"id:{source}:{explicit_id}"
    elif url:
        key = f"url:{normalize_url(url)}"
    else:
        key = f"pos:{source}:{position}"
    article_id = id_for(key)
    content = "\x1f".join((ex.title, ex.text, url, published, ex.author, site))
    return Article(
        article_id=article_id, source=source, record=record, title=ex.title or _fallback_title(ex.text),
        text=ex.text, url=url, published=published, author=ex.author, site=site,
        content_hash=hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:16],
    )


def _plausible(iso: str) -> bool:
    """A date of publication: from 1800 to the end of next year (pages carry typos and placeholders)."""
    try:
        d = date.fromisoformat(iso[:10])
    except ValueError:
        return False
    return 1800 <= d.year <= date.today().year + 1


def id_for(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def url_id(url: str) -> str:
    """The id an article with this URL (and no export id) has."""
    return id_for(f"url:{normalize_url(url)}")


def _fallback_title(text: str) -> str:
    """The first twelve words, and at most 120 characters: one 'word' can be a megabyte of dots."""
    first = text.strip().split("\n", 1)[0]
    words = first.split()
    title = " ".join(words[:12])
    return title[:120] + ("…" if len(words) > 12 or len(title) > 120 else "")
