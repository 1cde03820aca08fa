"""`archivist snapshot DEST`: a consistent copy of the published index, to ship to bot replicas on
other hosts. The database is copied with SQLite's online backup (one read snapshot, while builds and
bots go on), then the FAISS file that snapshot names; staging left by an unfinished build is dropped.
A replica points its [index] path at a symlink, and switching the symlink to a new snapshot's folder
makes its running bot move to it (index/searching/search.py follows the folder).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from index.searching.links import SECRET_FILE, load_secret
from index.storing.store import DB_NAME, Store, StoreError, disk_full, manifest_json, private

ATTEMPTS = 3  # a build that publishes during the copy removes the FAISS file the copy names: copy again


def snapshot(index_dir: Path, dest: Path) -> dict:
    """Write the snapshot into `dest` (new or empty); returns its manifest. A snapshot that fails part way
    (a full disk, most often) leaves `dest` as it found it, so that the same command can be run again."""
    if dest.exists() and not dest.is_dir():
        raise StoreError(f"{dest} is a file: a snapshot goes into a new folder")
    if dest.exists() and any(dest.iterdir()):
        raise StoreError(f"{dest} is not empty: a snapshot goes into a new folder")
    made = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot make the snapshot folder {dest}: {e.strerror or e}") from None
    store = Store.open(index_dir, readonly=True)
    try:
        return _copy(store, index_dir, dest)
    except (sqlite3.DatabaseError, OSError) as e:
        _empty(dest, remove=made)
        if disk_full(e):
            raise StoreError(f"the disk holding {dest} is full ({e}); nothing was left there: free some space "
                             "and run the snapshot again") from None
        if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
            raise  # the source database's damage: bot/cli.py names it
        raise StoreError(f"cannot write the snapshot into {dest}: {getattr(e, 'strerror', None) or e}") from None
    finally:
        store.close()


def _copy(store: Store, index_dir: Path, dest: Path) -> dict:
    for _ in range(ATTEMPTS):
        tmp = dest / (DB_NAME + ".part")
        tmp.unlink(missing_ok=True)
        private(tmp)
        with closing(sqlite3.connect(tmp)) as out:
            store.conn.backup(out)  # one consistent snapshot, whatever writes meanwhile
            out.execute("DELETE FROM staged_chunks")
            out.execute("DELETE FROM staged_articles")
            out.commit()
            # a replica only reads: no write-ahead log to keep beside it
            out.execute("PRAGMA journal_mode=DELETE")
            meta = dict(out.execute("SELECT key, value FROM meta"))
            counts = {t: out.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "chunks")}
        faiss = meta.get("faiss_file", "")
        try:
            if faiss:
                shutil.copyfile(index_dir / faiss, dest / faiss)
        except FileNotFoundError as e:
            if e.filename != str(index_dir / faiss):
                raise
            continue  # published over while copying: the database copy names a removed file
        os.replace(tmp, dest / DB_NAME)
        _ship_secret(index_dir, dest)
        (dest / "manifest.json").write_text(manifest_json(meta, counts))
        return {"generation": int(meta.get("generation", "0")), "faiss_file": faiss, **counts}
    raise StoreError(f"{index_dir} was published over {ATTEMPTS} times while copying; try again")


def _empty(dest: Path, remove: bool) -> None:
    """What a failed snapshot wrote goes: `dest` was empty or new when it began."""
    for path in dest.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if remove:
        dest.rmdir()


def _ship_secret(index_dir: Path, dest: Path) -> None:
    """The key that signs archived-copy links goes with every snapshot (0600), so that a link any replica
    made opens on every replica, before and after a switch. With $ARCHIVIST_LINK_SECRET set, the
    replicas are given the same variable instead, and no file is written."""
    if os.environ.get("ARCHIVIST_LINK_SECRET"):
        return
    secret = load_secret(index_dir)  # made now if the index never served a link
    with os.fdopen(os.open(dest / SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(secret.hex())
