"""Files read in a child process that can be stopped: no file can stall or crash the process reading it.

A parser can go superlinear on a small hostile file (a regex on 60,000 dots, trafilatura on 16,000
<b> in one <p>) or die on it (a segfault in C, the OOM killer). `FileReader` runs `sources.read_file`
in a child (`python -m index.reading.worker`) and gives each file two budgets, both in the child's CPU
time (so that what gets indexed does not depend on how busy the machine is): `max_seconds` without
yielding its next item, and `max_seconds` plus SECONDS_PER_MB for each MB of the file and
SECONDS_PER_RECORD for each WARC record in all (a WARC of many slow records, a small .gz of 50 million
bad lines). A file over either is stopped, its child killed, and that is the file's error line, saying
how far it got; what it yielded before stays. A file whose child dies is that file's error too. In a
WARC, a record with no progress in `max_seconds` or whose child dies is that record's error instead,
and a new child goes on from the record after it, within what is left of the file's whole budget.
The next file gets a fresh child. Library log lines from the child reach this process's logging, as
its own would.
"""
from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from index.config import SourceSpec
from index.reading import safe
from index.records import Article, Place, SourceError

log = logging.getLogger("archivist.sources")

# the child finds this package where this process found it, installed or not
_CHILD_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")) if p)}
_END = "end"  # after a file's last item
_LOG = "log"  # a log record from the child: (_LOG, level, logger name, message)
_AT = "at"  # the child began (a Place) or finished (None) a record it can go on after: (_AT, place)
SECONDS_PER_MB = 2.0  # of CPU a file may take in all beyond max_seconds: trafilatura reads a news page in 0.02 s
# and for each WARC record it begins: a page costs trafilatura about 3 ms however small, so 40,000 records
# of 250 bytes (10 MB) need 130 s, over the 50 s their size allows; 2,000 hostile records of 1 KB gain 20 s
SECONDS_PER_RECORD = 0.01
POLL = 0.5  # seconds between looks at a quiet child's CPU time
WALL_FACTOR = 4  # a child quiet for this many times max_seconds of wall time is stopped too (blocked on I/O)
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """A process's CPU time (user and system) from /proc, or None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return None


class FileReader:
    """Reads files one at a time in a child process, each with a time budget per item. Use as a context
    manager, or call close(): the child lives across files until then."""

    def __init__(self, max_seconds: float, max_bytes: int):
        self.max_seconds, self.max_bytes = max_seconds, max_bytes
        self.proc: subprocess.Popen | None = None
        self.jobs = self.items = None

    def __enter__(self) -> FileReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read(self, path: Path, spec: SourceSpec, shown: str) -> Iterator[Article | SourceError]:
        """The file's articles and errors, as `sources.read_file` yields them."""
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        run = _Run(self.max_seconds, SECONDS_PER_MB * size / 2**20)
        start: Place | None = None
        while True:
            start = yield from self._read_from(path, spec, shown, start, run)
            if start is None:
                return

    def _read_from(self, path: Path, spec: SourceSpec, shown: str, start: Place | None,
                   run: _Run) -> Generator[Article | SourceError, None, Place | None]:
        """The items one child reads from `start` on; where a new child goes on from if this one was
        stopped or died inside a record it can skip (in a WARC), else None."""
        try:
            self._start()
            self.jobs.send((path.absolute(), spec, shown, self.max_bytes, start))
        except OSError as e:  # no process could be started (fork refused, out of memory)
            self._kill()
            yield SourceError(shown, f"cannot start a reader process: {e.strerror or e}")
            return None
        clock, place, finished = _Clock(self.proc.pid), None, False
        try:
            while True:
                if not self.items.poll(min(POLL, self.max_seconds)):
                    used = clock.used(fresh=True)
                    over = run.spent + used >= run.budget
                    if not over and clock.quiet() < self.max_seconds and clock.quiet_wall() < WALL_FACTOR * self.max_seconds:
                        continue
                    self._kill()
                    if place is not None and not over:
                        yield run.lost(shown, place, used, f"stopped: no progress in {self.max_seconds:g} s "
                                                           "([index] max_file_seconds); reading went on after this record")
                        return _after(place)
                    yield SourceError(shown, _stopped(run, over))
                    return None
                try:
                    item = self.items.recv()
                except (EOFError, OSError, pickle.UnpicklingError):
                    used, how = clock.used(), self._kill()
                    if place is not None:
                        yield run.lost(shown, place, used, f"its reader process died ({how}) in this record; "
                                                           "reading went on after it")
                        return _after(place)
                    yield SourceError(shown, f"its reader process died ({how}); the rest of the file is not read")
                    return None
                if item == _END:
                    finished = True
                    return None
                if isinstance(item, tuple) and item[0] == _LOG:
                    logging.getLogger(item[2]).log(item[1], "%s", item[3])
                    continue
                clock.progress()
                if isinstance(item, tuple) and item[0] == _AT:
                    place = item[1]
                    run.records += place is not None
                    continue
                run.articles += isinstance(item, Article)
                yield item
                if run.spent + clock.used() >= run.budget:
                    self._kill()
                    yield SourceError(shown, _stopped(run, True))
                    return None
        finally:
            if not finished and self.proc is not None:
                self._kill()  # left mid-file: the child's next items would be taken for the next file's

    def close(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            self.jobs.close()  # the child sees the end of its input and leaves
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
        self._drop()

    def _start(self) -> None:
        if self.proc is not None:
            return
        job_r, job_w = os.pipe()
        item_r, item_w = os.pipe()
        try:
            # -P: a folder of the user's named "index" must not stand in for this package
            self.proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "index.reading.worker", str(job_r), str(item_w)],
                pass_fds=(job_r, item_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=_CHILD_ENV)
        finally:
            os.close(job_r)
            os.close(item_w)
        self.jobs = Connection(job_w, readable=False)
        self.items = Connection(item_r, writable=False)

    def _kill(self) -> str:
        """Stop the child; how it ended, in words."""
        if self.proc is None:
            return "not running"
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # stuck in the kernel (a hung mount): leave it, never hang the build
            code = None
        self._drop()
        if code is None:
            return "did not stop"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
            return f"killed by signal {-code}"
        return f"exit code {code}"

    def _drop(self) -> None:
        for conn in (self.jobs, self.items):
            with contextlib.suppress(OSError):
                conn.close()
        self.proc = self.jobs = self.items = None


@dataclass
class _Run:
    """One file's reading, across the children it may take: its budget of CPU seconds (max_seconds, plus
    what its size allows, plus SECONDS_PER_RECORD for each WARC record begun), what the children before
    this one spent of it, and the articles and records read so far."""

    max_seconds: float
    for_size: float
    spent: float = 0.0
    articles: int = 0
    records: int = 0

    @property
    def budget(self) -> float:
        return self.max_seconds + self.for_size + SECONDS_PER_RECORD * self.records

    def lost(self, shown: str, place: Place, used: float, why: str) -> SourceError:
        """A record whose child was stopped or died: its error line. The stop costs the file at least
        max_seconds of its budget, so that records that stall without using CPU cannot go on for ever."""
        self.spent += max(used, self.max_seconds)
        return SourceError(shown, why, f"#{place.rid}")


def _after(place: Place) -> Place:
    """Where a new child goes on from: the next record, this one counted as found."""
    return Place(place.record + 1, "", place.found + 1)


def _stopped(run: _Run, whole: bool) -> str:
    per_record = f" + {SECONDS_PER_RECORD:g} s a record" if run.records else ""
    why = (f"{run.budget:.0f} s of reading in all, this file's budget ({run.max_seconds:g} s + {SECONDS_PER_MB:g} s a "
           f"MB{per_record})" if whole else f"no progress in {run.max_seconds:g} s")
    after = f" after {run.articles:,} article{'s' * (run.articles != 1)}" if run.articles else ""
    return f"stopped: {why}{after} ([index] max_file_seconds); the rest of the file is not read"


class _Clock:
    """A child's CPU time spent on the file in hand, and since its last item; wall time where there is no
    /proc. /proc is read at most every SAMPLE seconds while items flow (a file can send 40,000 a
    second), and afresh whenever the child is quiet."""

    SAMPLE = 0.05

    def __init__(self, pid: int):
        self.pid = pid
        self.start = self.last = self.cpu = self._read()
        self.sampled = self.last_wall = time.monotonic()

    def _read(self) -> float:
        cpu = cpu_seconds(self.pid)
        return time.monotonic() if cpu is None else cpu

    def _sample(self, fresh: bool = False) -> float:
        now = time.monotonic()
        if fresh or now - self.sampled >= self.SAMPLE:
            self.cpu, self.sampled = self._read(), now
        return self.cpu

    def progress(self) -> None:
        self.last, self.last_wall = self._sample(), time.monotonic()

    def used(self, fresh: bool = False) -> float:
        return self._sample(fresh) - self.start

    def quiet(self) -> float:
        return self._sample(fresh=True) - self.last

    def quiet_wall(self) -> float:
        return time.monotonic() - self.last_wall


WARNINGS_PER_FILE = 5  # a file's warnings shown; the rest are one line with their count


class _Forward(logging.Handler):
    """In the child: log records go to the parent, which logs them as its own; each names the file
    (a library's own warning may not), and a file's warnings beyond WARNINGS_PER_FILE are counted and
    told in one line when it ends (a 20,000-line export of bad links is not 40,000 lines)."""

    def __init__(self, conn: Connection):
        super().__init__(logging.WARNING)
        self.conn = conn
        self.start("")

    def start(self, shown: str) -> None:
        self.shown, self.sent, self.held = shown, 0, 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR and self.sent >= WARNINGS_PER_FILE:
            self.held += 1
            return
        self.sent += 1
        message = record.getMessage()
        if self.shown and self.shown not in message:
            message = f"warning: {self.shown}: {message.removeprefix('warning: ')}"
        self._send(record.levelno, record.name, message)

    def finish(self) -> None:
        if self.held:
            self._send(logging.WARNING, "archivist.sources",
                       f"warning: {self.shown}: {self.held:,} more warnings like these in this file")
        self.start("")

    def _send(self, level: int, name: str, message: str) -> None:
        try:
            self.conn.send((_LOG, level, name, message))
        except Exception:  # a record that cannot be sent must not cost the file
            pass


def _die_with_parent() -> None:
    """A child busy on a stalled file must not outlive a build killed with -9 (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    _die_with_parent()
    jobs = Connection(int(argv[0]), writable=False)
    items = Connection(int(argv[1]), readable=False)
    logging.captureWarnings(True)
    forward = _Forward(items)
    logging.basicConfig(level=logging.WARNING, handlers=[forward])
    from index.reading import sources

    while True:
        try:
            path, spec, shown, max_bytes, start = jobs.recv()
        except EOFError:
            return
        forward.start(safe.name(shown))
        for item in sources.read_file(path, spec, shown, max_bytes, start, at=lambda place: items.send((_AT, place))):
            items.send(item)
        forward.finish()
        items.send(_END)


if __name__ == "__main__":
    main(sys.argv[1:])
