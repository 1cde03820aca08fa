"""`archivist check`: does an index hold together? Each finding is one line a person can act on.

Reads only: SQLite's own integrity check, the tables against each other, the FAISS file against the
chunk table, and the manifest against the database; and the models that answer from it (the encoder's
files against its package's record, the reader's against its sha256).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path


from index.storing import vectors
from index.storing.store import DB_NAME, FORMAT_VERSION, Store, StoreError, damaged

REBUILD = "run `archivist build` to rebuild it from the database"
START_OVER = "move the index folder away and run `archivist build` to build it again"


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str


def models(encoder: str, reader: str) -> list[Finding]:
    """The encoder `[index] model` names and the reader `[search] reader` names, each whole or not."""
    from index.embedding.embed import verify as verify_encoder
    from index.reader.model import verify as verify_reader

    out = []
    for name, setting, verify in (("encoder", encoder, verify_encoder), ("reader", reader, verify_reader)):
        problem = verify(setting)
        out.append(Finding(problem is None, problem or f"the {name} model's files are whole ({setting})"))
    return out


def check(index_dir: Path) -> list[Finding]:
    try:
        store = Store.open(index_dir, readonly=True)
    except StoreError as e:
        return [Finding(False, str(e))]
    try:
        return _check(store, index_dir)
    except sqlite3.DatabaseError as e:
        return [Finding(False, damaged(index_dir / DB_NAME, e))]
    finally:
        store.close()


def _check(store: Store, index_dir: Path) -> list[Finding]:
    db = store.conn
    problems = [r[0] for r in db.execute("PRAGMA integrity_check(5)")]
    if problems != ["ok"]:
        return [Finding(False, f"SQLite integrity check: {'; '.join(problems)}; {START_OVER}")]
    out = [Finding(True, "SQLite integrity check passed")]
    meta = store.meta()
    if meta.get("format_version") != str(FORMAT_VERSION):
        out.append(Finding(False, f"index format {meta.get('format_version', '?')} is not this version's "
                                  f"{FORMAT_VERSION}; run `archivist build`"))
    counts = store.counts()
    (orphans,) = db.execute("SELECT count(*) FROM chunks WHERE article_id NOT IN (SELECT article_id FROM articles)"
                            ).fetchone()
    (empty,) = db.execute("SELECT count(*) FROM articles WHERE article_id NOT IN (SELECT article_id FROM chunks)"
                          ).fetchone()
    (fts,) = db.execute("SELECT count(*) FROM chunks_fts").fetchone()
    dim = int(meta.get("dim", "0"))
    (bad_vectors,) = db.execute("SELECT count(*) FROM chunks WHERE length(vector) != ?", (dim * 4,)).fetchone()
    for n, what in ((orphans, "chunks belong to no article"), (empty, "articles have no chunks"),
                    (bad_vectors, f"chunk vectors are not {dim} floats")):
        if n:
            out.append(Finding(False, f"{n} {what}; {START_OVER}"))
    if fts != counts["chunks"]:
        out.append(Finding(False, f"the keyword index has {fts} rows for {counts['chunks']} chunks; {START_OVER}"))
    if not (orphans or empty or bad_vectors) and fts == counts["chunks"]:
        out.append(Finding(True, f"{counts['articles']} articles, {counts['chunks']} chunks, keyword index in step"))
    out.append(_check_faiss(store, index_dir, meta, counts["chunks"], dim))
    out.append(_check_manifest(index_dir, meta, counts))
    return out


def _check_faiss(store: Store, index_dir: Path, meta: dict, chunks: int, dim: int) -> Finding:
    name = meta.get("faiss_file", "")
    if not name:
        return Finding(chunks == 0, "no vector file yet" if chunks == 0 else f"no vector file is recorded; {REBUILD}")
    try:
        index = vectors.load_verified(index_dir / name, store.chunk_ids(), dim, mmap=True,
                                      sha256=meta.get("faiss_sha256", ""))
    except vectors.Damaged as e:
        return Finding(False, f"{e}; {REBUILD}")
    bad = vectors.differing(index, store.all_vectors())
    if bad:
        return Finding(False, f"{vectors.differing_text(name, bad)}; {REBUILD}")
    return Finding(True, f"vector file {name}: {index.ntotal} vectors, ids equal the chunk ids"
                         + (", vectors equal the database's" if bad == 0 else ", its checksum as written"))


def _check_manifest(index_dir: Path, meta: dict, counts: dict) -> Finding:
    path = index_dir / "manifest.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return Finding(False, f"{path.name} is missing or not JSON; run `archivist build` to write it")
    expected = {"articles": counts["articles"], "chunks": counts["chunks"],
                "generation": int(meta.get("generation", "0")), "faiss_file": meta.get("faiss_file", "")}
    differ = [k for k, v in expected.items() if doc.get(k) != v] if isinstance(doc, dict) else list(expected)
    if differ:
        return Finding(False, f"{path.name} disagrees with the database on {', '.join(differ)}; "
                              "run `archivist build` to write it")
    return Finding(True, f"{path.name} agrees with the database")
