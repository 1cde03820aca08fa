"""Incremental, crash-safe build: sources -> articles -> chunks -> vectors -> published index.

Work is staged in SQLite as it is embedded, so a killed build loses nothing it embedded; readers see
the previous index until the publish transaction commits, which happens after the new FAISS file is
on disk under a name of its own.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from index.reading import safe

from index.reading import sources

from index.storing import vectors
from index.reading.chunk import chunk, embed_text
from index.reading.worker import FileReader
from index.config import Config
from index.embedding.embed import BUNDLED, Embedder, vector_key
from index.records import Article, BuildSummary, SourceError
from index.storing.store import FORMAT_VERSION, Store, damaged, disk_full, manifest_json, now_iso

log = logging.getLogger("archivist.build")

MANIFEST = "manifest.json"
ERROR_LINES_PER_FILE = 5  # a file's errors beyond these are one line with their count
EMBED_GROUP_CHUNKS = 512  # chunks per encoder call (and per staging commit): length-sorted batches pay off


class BuildError(RuntimeError):
    pass


def model_key(cfg: Config) -> str:
    """Identifies the vectors: any change of model or chunking means re-embedding everything."""
    model = cfg.index.model
    if model != BUNDLED:
        model = str(cfg.resolve(model).resolve())
    return json.dumps({"model": model, "backend": vector_key(cfg.index.backend), "chunking": asdict(cfg.chunking),
                       "format": FORMAT_VERSION}, sort_keys=True)


def shown_path(path: Path, base_dir: Path) -> str:
    """How a file is named in ids, sources and messages: relative to the config's folder when inside
    it, and always storable text (a name that is not UTF-8 shows its odd bytes as \\xNN)."""
    try:
        shown = str((path.parent.resolve() / path.name).relative_to(base_dir.resolve()))
    except ValueError:
        shown = str(path.parent.resolve() / path.name)
    return safe.path_text(shown)


class _Lock:
    def __init__(self, index_dir: Path):
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
            self.f = open(index_dir / "build.lock", "w")
        except OSError as e:
            raise BuildError(f"cannot use {index_dir} as the index folder: {e.strerror or e}") from None

    def __enter__(self):
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError("another build is running on this index") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


_DONE = object()
QUEUE_CHARS = 32 * 2**20  # article text read ahead of the encoder, at most (plus the one article that overflows it)


class _TextQueue:
    """The reader's queue to the build, bounded by the text it holds rather than by a count of items:
    512 articles of 9 MB each would otherwise sit in memory while the encoder catches up."""

    def __init__(self, max_chars: int = QUEUE_CHARS):
        self.items: queue.Queue = queue.Queue()
        self.room = threading.Condition()
        self.held, self.max_chars = 0, max_chars

    def put(self, item) -> None:
        size = len(item.text) if isinstance(item, Article) else 0
        with self.room:
            while self.held and self.held + size > self.max_chars:
                self.room.wait()
            self.held += size
        self.items.put(item)

    def get(self):
        item = self.items.get()
        if isinstance(item, Article):
            with self.room:
                self.held -= len(item.text)
                self.room.notify_all()
        return item


def _produce(cfg: Config, signatures: dict[str, tuple[int, int, str]], out: _TextQueue) -> None:
    """Reader thread: every file's articles and errors, then ("read", path, signature) for a file read
    whole or ("done", ...) for one with errors; ("skip", ...) for a file unchanged on disk.
    Files are parsed in a child process with a time budget (worker.FileReader)."""
    reader = FileReader(cfg.index.max_file_seconds, cfg.index.max_article_mb * 2**20)
    try:
        for item in sources.discover(cfg.sources, cfg.base_dir):
            if isinstance(item, SourceError):
                out.put(replace(item, path=shown_path(Path(item.path), cfg.base_dir)))
                continue
            path, spec = item
            shown = shown_path(path, cfg.base_dir)
            try:
                st = path.stat()
                sig = (st.st_size, st.st_mtime_ns, sources.reading_key(spec))
            except OSError as e:
                out.put(SourceError(shown, f"cannot read: {e.strerror or e}"))
                continue
            if signatures.get(shown) == sig:
                out.put(("skip", shown, sig))
                continue
            ok = True
            for got in reader.read(path, spec, shown):
                ok = ok and not isinstance(got, SourceError)
                out.put(got)
            out.put(("read" if ok else "done", shown, sig))
    except BaseException as e:  # the consumer must hear of it, or it waits forever
        out.put(e)
    finally:
        reader.close()
        out.put(_DONE)


class _Progress:
    def __init__(self, enabled: bool):
        self.bar = None
        self.chunks = 0
        self.t0 = time.monotonic()
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(unit=" articles", dynamic_ncols=True, smoothing=0.1)

    def advance(self, articles: int, chunks: int = 0) -> None:
        self.chunks += chunks
        if self.bar is not None:
            self.bar.update(articles)
            self.bar.set_postfix_str(f"{self.chunks / max(1e-9, time.monotonic() - self.t0):.0f} chunks/s", refresh=False)

    def set_total(self, total: int) -> None:
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line)
        else:
            log.error(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def build(cfg: Config, *, progress: bool = False, embedder: Embedder | None = None,
          report: Callable[[str], None] | None = None, scope: tuple[str, ...] | None = None) -> BuildSummary:
    """Index the configured sources. With `scope` (the paths a user named), articles that came from
    elsewhere are left alone: only articles from under those paths that are gone are removed."""
    t0 = time.monotonic()
    index_dir = cfg.index_dir()
    new_index = not index_dir.exists()
    encoder, cluster_errors, on_ray = embedder or Embedder.for_index(cfg.index), (), None
    if cfg.build.ray:  # Ray is imported only when asked for
        from index.embedding.ray_embed import RayEmbedder, RayError

        encoder = on_ray = RayEmbedder(encoder, cfg.build.ray, cfg.build.ray_workers)
        cluster_errors = (RayError,)
    with _Lock(index_dir):
        store = Store.open(index_dir)
        try:
            problem = "" if new_index else store.quick_check()
            if problem:  # a build that changes nothing would not read the damaged pages, and say all is well
                raise BuildError(damaged(store.path, problem))
            summary = _build(cfg, store, index_dir, encoder, progress, report, t0, _Scope(scope))
        except cluster_errors as e:  # the cluster, not the archive: one line; what was embedded is staged
            raise BuildError(str(e)) from None
        except (sqlite3.OperationalError, OSError) as e:
            if not disk_full(e):
                raise
            raise BuildError(f"the disk holding {index_dir} is full ({e}); the published index is unchanged and "
                             "what was embedded is kept: free some space and build again") from None
        finally:
            store.rollback()
            store.close()
            if on_ray:
                on_ray.close()
    if new_index and not (index_dir / MANIFEST).exists():
        shutil.rmtree(index_dir, ignore_errors=True)  # nothing was read: leave no empty index behind
    return replace(summary, sources=tuple(shown_path(cfg.base_dir / Path(s.path).expanduser(), cfg.base_dir)
                                          for s in cfg.sources))


class _Scope:
    """Which stored articles a build answers for: all, or those whose file lies under the given paths."""

    def __init__(self, paths: tuple[str, ...] | None):
        self.prefixes = None if paths is None else tuple(p.rstrip("/") for p in paths)

    def __contains__(self, source: str) -> bool:
        return self.prefixes is None or any(source == p or source.startswith(p + "/") for p in self.prefixes)


class _Run:
    """One build's bookkeeping: what it met so far (counts, errors, files read) and the embedding work
    waiting for the encoder, which is flushed in groups of EMBED_GROUP_CHUNKS chunks."""

    def __init__(self, cfg: Config, store: Store, embedder: Embedder, bar: _Progress, say, scope: _Scope):
        self.cfg, self.store, self.embedder, self.bar, self.say, self.scope = cfg, store, embedder, bar, say, scope
        self.meta = store.meta()
        self.key = model_key(cfg)
        self.same_model = self.meta.get("model_key") == self.key
        self.same_readers = self.meta.get("reader_version") == str(sources.READER_VERSION)
        self.states = store.article_states()
        self.staged = store.staged_keys(self.key)
        self.by_source: dict[str, list[str]] = {}
        for aid, (_, src, _) in self.states.items():
            self.by_source.setdefault(src, []).append(aid)
        self.seen: set[str] = set()
        self.failed_paths: set[str] = set()
        self.errors: list[str] = []  # the lines shown
        self.errors_in: dict[str, int] = {}  # errors of each file being read
        self.failures = 0
        # files outside the scope keep their signatures, so the next full build still skips them
        self.stored_files = store.file_signatures()
        self.files = {p: sig for p, sig in self.stored_files.items() if p not in scope}
        self.publish: list[tuple[str, str]] = []  # (article_id, content_hash) to move from staging
        self.moved: list[Article] = []  # same content, new location
        self.added = self.updated = self.unchanged = self.duplicates = self.embedded_chunks = 0
        self.pending: list[tuple[Article, list]] = []
        self.pending_chunks = 0

    def signatures(self) -> dict[str, tuple[int, int, str]]:
        """Files the reader may skip when unchanged on disk: none after a change of model or readers."""
        return self.stored_files if self.same_model and self.same_readers else {}

    def take(self, article: Article) -> None:
        if article.article_id in self.seen:
            self.duplicates += 1
            self.bar.advance(1)
            return
        self.seen.add(article.article_id)
        old = self.states.get(article.article_id)
        if old is not None and old[0] == article.content_hash and self.same_model:
            self.unchanged += 1
            if old[1:] != (article.source, article.record):
                self.moved.append(article)
            self.bar.advance(1)
            return
        if old is None:
            self.added += 1
        else:
            self.updated += 1
        self.publish.append((article.article_id, article.content_hash))
        if (article.article_id, article.content_hash) in self.staged:
            self.bar.advance(1)  # embedded by an earlier build that did not finish
            return
        self.embed_later(article)

    def embed_later(self, article: Article) -> None:
        cs = chunk(article.text, self.cfg.chunking)
        self.pending.append((article, cs))
        self.pending_chunks += len(cs)
        if self.pending_chunks >= EMBED_GROUP_CHUNKS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        texts = [embed_text(a.title, a.text, c) for a, cs in self.pending for c in cs]
        try:
            vecs = self.embedder.encode(texts)
        except Exception as e:  # an article the encoder cannot take: that article's error, not the build's
            items = self._one_by_one(e)
        else:
            items, i = [], 0
            for a, cs in self.pending:
                items.append((a, cs, vecs[i:i + len(cs)]))
                i += len(cs)
        self.store.stage(self.key, items)
        self.embedded_chunks += len(texts)
        self.bar.advance(len(self.pending), len(texts))
        self.pending, self.pending_chunks = [], 0

    def _one_by_one(self, error: Exception) -> list:
        """The group again, an article at a time: those the encoder refuses become their file's error
        lines (the index keeps what it had of them). When it refuses every one, the fault is not theirs
        (the encoder or the cluster): the build fails with the first error."""
        items, refused = [], []
        for a, cs in self.pending:
            try:
                items.append((a, cs, self.embedder.encode([embed_text(a.title, a.text, c) for c in cs])))
            except Exception as e:
                refused.append((a, e))
        if not items and len(refused) > 1:
            raise error
        for a, e in refused:
            self.publish.remove((a.article_id, a.content_hash))
            if a.article_id in self.states:
                self.updated -= 1
            else:
                self.added -= 1
            self.failed(SourceError(a.source, f"cannot be embedded ({type(e).__name__}: {e})",
                                    f"#{a.record}" if a.record else ""))
        return items

    def skipped(self, shown: str, sig: tuple[int, int, str]) -> None:
        """A file unchanged on disk: its articles are unchanged without reading it."""
        self.files[shown] = sig
        for aid in self.by_source.get(shown, []):
            if aid not in self.seen:
                self.seen.add(aid)
                self.unchanged += 1
        self.bar.advance(len(self.by_source.get(shown, [])))

    def failed(self, error: SourceError) -> None:
        """An error line for each of a file's first ERROR_LINES_PER_FILE errors; the rest are counted and
        told in one line when the file ends (100,000 bad records are not 100,000 lines)."""
        self.failed_paths.add(error.path)
        self.failures += 1
        seen = self.errors_in.get(error.path, 0) + 1
        self.errors_in[error.path] = seen
        if seen <= ERROR_LINES_PER_FILE:
            self.errors.append(str(error))
            self.say(f"error: {error}")

    def file_done(self, shown: str) -> None:
        more = self.errors_in.pop(shown, 0) - ERROR_LINES_PER_FILE
        if more > 0:
            line = f"{safe.name(shown)}: {more} more error{'s' * (more != 1)} like these in this file"
            self.errors.append(line)
            self.say(f"error: {line}")

    def unseen(self) -> tuple[list[str], list[str]]:
        """(kept, removed): stored articles this build did not meet. Those whose file could not be read
        this time are kept (a bad read must never lose data), and so are those from outside the paths
        a build was given; the rest are gone."""
        kept, removed = [], []
        for aid, (_, src, _) in self.states.items():
            if aid not in self.seen:
                (kept if src in self.failed_paths or src not in self.scope else removed).append(aid)
        return kept, removed

    def reembed(self, kept: list[str]) -> None:
        """After a change of model, kept articles' old vectors cannot stay: embed their stored text again."""
        for aid in kept:
            article = self.store.article(aid)
            if (aid, article.content_hash) not in self.staged:
                self.embed_later(article)
            self.publish.append((aid, article.content_hash))

    def summary(self, removed: int, t0: float) -> BuildSummary:
        encoder = self.embedder.describe() if self.embedded_chunks else ""
        return BuildSummary(
            added=self.added, updated=self.updated, unchanged=self.unchanged, removed=removed,
            failed=self.failures, chunks_embedded=self.embedded_chunks, seconds=time.monotonic() - t0,
            errors=tuple(self.errors), duplicates=self.duplicates, encoder=encoder)


def _build(cfg, store: Store, index_dir: Path, embedder: Embedder, progress: bool, report, t0: float,
           scope: _Scope) -> BuildSummary:
    bar = _Progress(progress)
    run = _Run(cfg, store, embedder, bar, report or bar.write, scope)
    broken = _broken_faiss(store, index_dir, run.meta)
    if broken:
        run.say(f"warning: {broken}; rebuilding it from the database (nothing is embedded again)")

    q = _TextQueue()
    reader = threading.Thread(target=_produce, args=(cfg, run.signatures(), q), daemon=True, name="archivist-reader")
    reader.start()
    while (item := q.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Article):
            run.take(item)
        elif isinstance(item, SourceError):
            run.failed(item)
        elif item[0] == "skip":
            run.skipped(*item[1:])
        else:
            if item[0] == "read":
                run.files[item[1]] = item[2]
            run.file_done(item[1])
    reader.join()

    kept, removed = run.unseen()
    if not run.same_model:
        run.reembed(kept)
    bar.set_total(len(run.seen) + run.duplicates + len(kept))
    run.flush()
    bar.close()

    meta = run.meta
    # the archive may have crossed [index] approximate_above, or the setting changed
    kind_changed = meta.get("faiss_kind", "flat") != vectors.kind_for(
        store.counts()["chunks"], cfg.index.faiss, cfg.index.approximate_above) if meta else False
    changed = (bool(run.publish or removed or run.moved) or not run.same_model or not run.same_readers
               or kind_changed or run.files != run.stored_files or bool(broken))
    if changed:
        _publish(cfg, store, index_dir, embedder, meta, run.key, run.same_model and not broken, run.publish, removed,
                 run.moved, run.files)
    elif meta:
        _write_manifest(store, index_dir)  # repairs a missing or edited manifest; a no-op otherwise
    return run.summary(len(removed), t0)


def _broken_faiss(store: Store, index_dir: Path, meta: dict) -> str:
    """Why the published vector file cannot be used ('' when it can): the database is the truth, and
    FAISS is rebuilt from it whenever it is missing, damaged or out of step (the checks `check` makes)."""
    if not meta.get("faiss_file"):
        return ""
    try:
        index = vectors.load_verified(index_dir / meta["faiss_file"], store.chunk_ids(), int(meta.get("dim", "0")),
                                      mmap=True, sha256=meta.get("faiss_sha256", ""))
    except vectors.Damaged as e:
        return str(e)
    if not meta.get("faiss_sha256"):  # published before checksums were recorded: compare the vectors once
        bad = vectors.differing(index, store.all_vectors())
        if bad:
            return vectors.differing_text(meta["faiss_file"], bad)
    return ""


def _publish(cfg, store: Store, index_dir: Path, embedder: Embedder, meta: dict, key: str, trust_faiss: bool,
             publish: list[tuple[str, str]], removed: list[str], moved: list[Article], files) -> None:
    """Publish the build. Without `trust_faiss` (another model, or a damaged file) FAISS is built from SQLite."""
    store.begin_publish()
    try:
        replaced = [aid for aid, _ in publish]
        gone = store.delete_articles(removed + [aid for aid in replaced if aid not in removed])
        store.relocate(moved)
        new_ids, new_vecs = store.publish_staged(key, publish)
        generation = int(meta.get("generation", "0"))
        faiss_file = meta.get("faiss_file", "")
        counts = store.counts()
        kind = vectors.kind_for(counts["chunks"], cfg.index.faiss, cfg.index.approximate_above)
        if gone or new_ids or not trust_faiss or not faiss_file or kind != meta.get("faiss_kind", "flat"):
            index = _next_faiss(store, index_dir, meta, trust_faiss, gone, new_ids, new_vecs, counts["chunks"], kind)
            generation += 1
            faiss_file = f"vectors-{generation}.faiss"
            vectors.save(index, index_dir / faiss_file)
            dim = index.d
        else:
            dim = int(meta.get("dim", "0"))
        store.mark_generation(replaced, generation)
        store.finish_publish({
            "generation": str(generation), "faiss_file": faiss_file, "model_key": key, "model": cfg.index.model,
            "dim": str(dim), "chunking": json.dumps(asdict(cfg.chunking)), "built_at": now_iso(),
            "format_version": str(FORMAT_VERSION), "reader_version": str(sources.READER_VERSION),
            "backend": cfg.index.backend, "faiss_kind": kind,
            "faiss_sha256": vectors.digest(index_dir / faiss_file) if faiss_file else "",
        }, files)
    except BaseException:
        store.rollback()
        raise
    for old in index_dir.glob("vectors-*.faiss*"):
        if old.name != faiss_file:
            try:
                old.unlink(missing_ok=True)
            except OSError as e:  # a folder by that name, say: the new generation is published all the same
                log.warning("warning: the old vector file %s cannot be removed (%s); remove it by hand",
                            safe.name(str(old)), e.strerror or e)
    _write_manifest(store, index_dir)


def _next_faiss(store: Store, index_dir: Path, meta: dict, trust_faiss: bool, gone, new_ids, new_vecs, total: int,
                kind: str):
    """Update the published FAISS index in memory; rebuild it from SQLite (no re-embedding) when it
    cannot be trusted or the archive's size calls for another kind of index."""
    current = index_dir / meta.get("faiss_file", "-")
    if trust_faiss and current.is_file() and meta.get("faiss_kind", "flat") == kind:
        try:
            index = vectors.load(current)
            vectors.update(index, gone, new_ids, new_vecs)
            if index.ntotal == total:
                return index
            log.warning("FAISS index out of step with SQLite (%d vs %d vectors); rebuilding it", index.ntotal, total)
        except RuntimeError as e:
            log.warning("cannot read %s (%s); rebuilding it from SQLite", current, e)
    dim = new_vecs.shape[1] if new_vecs is not None else store.vector_dim()
    return vectors.build(dim, store.all_vectors(), kind)


def _write_manifest(store: Store, index_dir: Path) -> None:
    text = manifest_json(store.meta(), store.counts())
    try:
        if (index_dir / MANIFEST).read_text() == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    tmp = index_dir / (MANIFEST + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, index_dir / MANIFEST)
