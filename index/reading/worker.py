"""Files read in a child process that can be stopped: no file can stall or crash the process reading it.

A parser can go superlinear on a small hostile file (a regex on 60,000 dots, trafilatura on 16,000
<b> in one <p>) or die on it (a segfault in C, the OOM killer). `FileReader` runs `sources.read_file`
in a child (`python -m index.reading.worker`) and waits at most `max_seconds` for each next item of a
file: a file that yields nothing for that long is stopped, its child killed, and it becomes that file's
error; a file whose child dies is that file's error too. What it yielded before stays. The next file
gets a fresh child. Library log lines from the child reach this process's logging, as its own would.
"""
from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from index.config import SourceSpec
from index.records import Article, SourceError

log = logging.getLogger("archivist.sources")

# the child finds this package where this process found it, installed or not
_CHILD_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")) if p)}
_END = "end"  # after a file's last item
_LOG = "log"  # a log record from the child: (_LOG, level, logger name, message)


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
            self._start()
            self.jobs.send((path.absolute(), spec, shown, self.max_bytes))
        except OSError as e:  # no process could be started (fork refused, out of memory)
            self._kill()
            yield SourceError(shown, f"cannot start a reader process: {e.strerror or e}")
            return
        articles, finished = 0, False
        try:
            while True:
                if not self.items.poll(self.max_seconds):
                    self._kill()
                    after = f" after {articles} article{'s' * (articles != 1)}" if articles else ""
                    yield SourceError(shown, f"stopped: no progress in {self.max_seconds:g} s{after} "
                                             "([index] max_file_seconds); the rest of the file is not read")
                    return
                try:
                    item = self.items.recv()
                except (EOFError, OSError, pickle.UnpicklingError):
                    yield SourceError(shown, f"its reader process died ({self._kill()}); the rest of the file is not read")
                    return
                if item == _END:
                    finished = True
                    return
                if isinstance(item, tuple) and item[0] == _LOG:
                    logging.getLogger(item[2]).log(item[1], "%s", item[3])
                    continue
                articles += isinstance(item, Article)
                yield item
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


class _Forward(logging.Handler):
    """In the child: log records go to the parent, which logs them as its own."""

    def __init__(self, conn: Connection):
        super().__init__(logging.WARNING)
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.conn.send((_LOG, record.levelno, record.name, record.getMessage()))
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
    logging.basicConfig(level=logging.WARNING, handlers=[_Forward(items)])
    from index.reading import sources

    while True:
        try:
            path, spec, shown, max_bytes = jobs.recv()
        except EOFError:
            return
        for item in sources.read_file(path, spec, shown, max_bytes):
            items.send(item)
        items.send(_END)


if __name__ == "__main__":
    main(sys.argv[1:])
