"""WARC files split into records that survive damage: a wrong Content-Length, a cut or damaged gzip
member, or stray bytes cost the records they touch, and reading resumes at the next `WARC/1.` line.

warcio parses each record (headers, HTTP, chunked and compressed bodies); what it cannot do is find
the next record after a bad one, nor read a .warc.gz written as one gzip member. Here the file is one
byte stream (plain, or every gzip member in turn, resuming at the next member after a damaged one)
and records are cut from it by their Content-Length, checked against the `\\r\\n\\r\\n` that must end
each; a record that fails the check is counted as lost and the stream is searched for the next one.
Memory stays within about `max_bytes` plus a megabyte whatever the file holds.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

CHUNK = 2**20
_MAGIC = b"\x1f\x8b\x08"  # a gzip member's first bytes
_START = b"WARC/1."
MAX_HEADER_LINES = 1_000


class NotWarc(ValueError):
    """The file does not begin with a WARC record."""


@dataclass
class Damage:
    """What a file lost: records that could not be read (and why), stretches of stray bytes skipped
    between records, and the record the file ends inside."""

    lost: int = 0
    reasons: list[str] = field(default_factory=list)
    stray: int = 0
    cut_short: str = ""

    def note(self, reason: str) -> None:
        self.lost += 1
        if reason not in self.reasons:
            self.reasons.append(reason)

    def __bool__(self) -> bool:
        return bool(self.lost or self.stray or self.cut_short)


@dataclass(frozen=True)
class Record:
    headers: dict[str, str]  # WARC header names in lower case
    data: bytes  # the whole record as written, headers and block, for warcio to parse
    too_large: bool = False  # its block is over max_bytes: not kept, `data` holds its first 8 KB only


def chunks(f: BinaryIO, gzipped: bool, damage: Damage) -> Iterator[bytes]:
    """The file's bytes, decompressed when gzipped: all members, however many, in bounded pieces."""
    if not gzipped:
        while piece := f.read(CHUNK):
            yield piece
        return
    pending, member, produced = f.read(CHUNK), zlib.decompressobj(31), False
    while pending:
        try:
            out = member.decompress(pending, CHUNK)  # at most CHUNK out: a bomb stays a stream
        except zlib.error:
            damage.note("a damaged gzip member")
            pending = _next_member(f, pending[1:])
            member, produced = zlib.decompressobj(31), False
            continue
        if out:
            produced = True
            yield out
        if member.eof:
            pending, member, produced = member.unused_data, zlib.decompressobj(31), False
            if pending.strip(b"\0"):
                continue
            pending = b""  # padding between members
        else:
            pending = member.unconsumed_tail
        if not pending:
            pending = f.read(CHUNK)
            if not pending and produced and not member.eof:
                damage.cut_short = damage.cut_short or "the last gzip member"


def _next_member(f: BinaryIO, data: bytes) -> bytes:
    """Bytes from the next gzip member header on ('' at the end of the file)."""
    while True:
        i = data.find(_MAGIC)
        if i >= 0:
            return data[i:]
        more = f.read(CHUNK)
        if not more:
            return b""
        data = data[-2:] + more


class _Stream:
    """A byte stream with look-ahead, read by lines and by lengths."""

    def __init__(self, pieces: Iterator[bytes]):
        self.pieces, self.buf, self.pos = pieces, b"", 0

    def _more(self) -> bool:
        piece = next(self.pieces, None)
        if piece is None:
            return False
        self.buf = self.buf[self.pos:] + piece
        self.pos = 0
        return True

    def readline(self, limit: int) -> bytes | None:
        """One line with its newline ('' at the end); None when it is longer than `limit`, which is
        then skipped."""
        searched = 0
        while True:
            end = self.buf.find(b"\n", self.pos + searched)
            if end >= 0:
                if end + 1 - self.pos > limit:
                    self.pos = end + 1
                    return None
                line, self.pos = self.buf[self.pos:end + 1], end + 1
                return line
            searched = len(self.buf) - self.pos
            if searched > limit:
                self.skip_line()
                return None
            if not self._more():
                line, self.pos = self.buf[self.pos:], len(self.buf)
                return line

    def skip_line(self) -> None:
        while (end := self.buf.find(b"\n", self.pos)) < 0:
            self.pos = len(self.buf)
            if not self._more():
                return
        self.pos = end + 1

    def read(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n and self._more():
            pass
        data, self.pos = self.buf[self.pos:self.pos + n], min(len(self.buf), self.pos + n)
        return data

    def skip(self, n: int) -> bool:
        """Pass over n bytes, or up to the next record if one starts first (a Content-Length too
        large). True when n bytes were passed."""
        while True:
            nxt = self.buf.find(b"\n" + _START, self.pos)
            if 0 <= nxt and nxt + 1 - self.pos <= n:
                self.pos = nxt + 1
                return False
            have = len(self.buf) - self.pos
            if have >= n:
                self.pos += n
                return True
            keep = min(have, len(_START))  # a record's start may straddle the next piece
            n -= have - keep
            self.pos = len(self.buf) - keep
            if not self._more():
                self.pos = len(self.buf)
                return False

    def peek(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n and self._more():
            pass
        return self.buf[self.pos:self.pos + n]

    def unread(self, data: bytes) -> None:
        self.buf, self.pos = data + self.buf[self.pos:], 0

    def to_next_record(self) -> None:
        """Skip to the next line that starts a WARC record (or the end)."""
        while True:
            nxt = self.buf.find(b"\n" + _START, max(0, self.pos - 1))
            if nxt >= 0:
                self.pos = nxt + 1
                return
            self.pos = max(self.pos, len(self.buf) - len(_START))
            if not self._more():
                self.pos = len(self.buf)
                return


def records(f: BinaryIO, gzipped: bool, max_bytes: int, damage: Damage) -> Iterator[Record]:
    """The file's records in order; what could not be read is counted in `damage`."""
    s = _Stream(chunks(f, gzipped, damage))
    first = True
    while True:
        line = s.readline(max_bytes)
        if line == b"":
            return
        if line is not None and not line.strip():
            continue
        if line is None or not line.startswith(_START):
            if first:
                raise NotWarc("a header line is over the limit" if line is None else "")
            if line is None:
                damage.note(f"a header line over {max_bytes / 2**20:.0f} MB")
            else:
                damage.stray += 1
            s.to_next_record()
            continue
        first = False
        head, headers, why = [line], {}, ""
        while True:
            line = s.readline(max_bytes)
            if not line or not line.strip() or len(head) > MAX_HEADER_LINES:
                why = (f"a header line over {max_bytes / 2**20:.0f} MB" if line is None else
                       "too many header lines" if len(head) > MAX_HEADER_LINES else "")
                head.append(line or b"")
                break
            head.append(line)
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if line == b"":  # the file ends in the record's headers
            damage.cut_short = headers.get("warc-record-id", "a record's headers").strip("<>")
            return
        length = headers.get("content-length", "")
        if why or not length.isdigit():
            damage.note(why or f"a Content-Length of {length[:20]!r}")
            s.to_next_record()
            continue
        n = int(length)
        if n > max_bytes:
            start = s.peek(8192)  # enough to see the HTTP headers: is it a page?
            if s.skip(n):
                yield Record(headers, b"".join(head) + start, too_large=True)
            else:
                damage.note("a Content-Length past the next record")
            continue
        block = s.read(n)
        if len(block) < n:
            damage.cut_short = headers.get("warc-record-id", "the last record").strip("<>")
            return
        after = s.peek(16)
        ends_right = (after.startswith((b"\r\n\r\n", b"\n\n")) or not after.strip(b"\r\n")
                      or after.lstrip(b"\r\n").startswith(_START))  # some writers leave out the blank lines
        if not ends_right:
            # the block does not end where its Content-Length says: too short, or it ran into the next record
            damage.note("a wrong Content-Length")
            start = block.find(b"\n" + _START)
            if start >= 0:
                s.unread(block[start + 1:])
            else:
                s.to_next_record()
            continue
        yield Record(headers, b"".join(head) + block + b"\r\n\r\n")
