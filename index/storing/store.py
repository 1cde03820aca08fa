"""SQLite, the index's source of truth: articles, chunks with float32 vectors, FTS5, build state.

The only module that writes the archive's SQL (the bot keeps its own tables in the same file, written by
bot/state/state.py). Readers see the last published state: a build stages its
embeddings in their own tables (committed as it goes, so a killed build loses no work) and moves
them into the live tables in one transaction at the end.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from index.records import Article, Chunk, Hit

FORMAT_VERSION = 1
DB_NAME = "archive.sqlite"

_ARTICLE_COLS = [f.name for f in fields(Article)]

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    {", ".join(c + (" TEXT PRIMARY KEY" if c == "article_id" else " TEXT NOT NULL") for c in _ARTICLE_COLS)}
);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE INDEX IF NOT EXISTS articles_url ON articles(url);
CREATE INDEX IF NOT EXISTS articles_record ON articles(record);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(article_id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, text, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                                  reading TEXT NOT NULL DEFAULT '');
-- the generation that published each article as it is now: what a build added or changed
CREATE TABLE IF NOT EXISTS article_generations (article_id TEXT PRIMARY KEY, generation INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS article_generations_generation ON article_generations(generation);
CREATE TABLE IF NOT EXISTS staged_articles (
    model_key TEXT NOT NULL, {", ".join(c + " TEXT NOT NULL" for c in _ARTICLE_COLS)},
    PRIMARY KEY (article_id, content_hash, model_key)
);
CREATE TABLE IF NOT EXISTS staged_chunks (
    model_key TEXT NOT NULL, article_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (article_id, content_hash, model_key, ordinal)
);
"""


def private(path: Path) -> None:
    """Create the database file readable by its owner only, as the link key is (it holds the team's
    questions and feedback); SQLite gives its -wal and -shm files the same mode. An existing file keeps
    the mode its owner gave it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


class StoreError(RuntimeError):
    pass


def disk_full(e: BaseException) -> bool:
    """Is this the disk (or quota) being full, from SQLite, the OS or FAISS?"""
    if isinstance(e, sqlite3.Error):
        return getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)


def damaged(path: Path, e: Exception | str) -> str:
    """What to say when SQLite finds the database damaged."""
    return (f"the database {path} is damaged ({e}); run `archivist check` for details, or move the index folder "
            "away and run `archivist build` to build it again")


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, index_dir: Path, readonly: bool = False) -> "Store":
        """The index's database. A missing, empty or damaged one is a StoreError that says which file
        and what to do, never a raw sqlite3 error."""
        path = index_dir / DB_NAME
        if index_dir.exists() and not index_dir.is_dir():
            raise StoreError(f"the index path {index_dir} is a file, not a folder")
        try:
            if readonly:
                if not path.is_file():
                    raise StoreError(f"no index at {index_dir} (run `archivist build` first)")
                # autocommit: no statement may leave a read transaction open, or the reader would keep
                # an old snapshot and never see a newly published index
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA busy_timeout=10000")
                if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
                    conn.close()
                    raise StoreError(f"{path} is empty or not an Archivist index (run `archivist build` to make one)")
                conn.execute("SELECT count(*) FROM meta").fetchone()
            else:
                index_dir.mkdir(parents=True, exist_ok=True)
                private(path)
                conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA busy_timeout=10000")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a killed process
                conn.executescript(SCHEMA)
                if "reading" not in {r[1] for r in conn.execute("PRAGMA table_info(files)")}:  # an index of 0.2
                    conn.execute("ALTER TABLE files ADD COLUMN reading TEXT NOT NULL DEFAULT ''")
        except sqlite3.DatabaseError as e:
            if disk_full(e):
                raise StoreError(f"the disk holding {index_dir} is full ({e}); free some space and try again") from None
            raise StoreError(damaged(path, e)) from None
        except OSError as e:
            raise StoreError(f"cannot open the index at {index_dir}: {e.strerror or e}") from None
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()


    # --- meta -------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta"))

    def generation(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    # --- what the build compares against ----------------------------------------------------
    def article_states(self) -> dict[str, tuple[str, str, str]]:
        """article_id -> (content_hash, source, record) of the published articles."""
        return {a: (h, s, r) for a, h, s, r in self.conn.execute(
            "SELECT article_id, content_hash, source, record FROM articles")}

    def file_signatures(self) -> dict[str, tuple[int, int, str]]:
        """Each file read whole by the last build: (size, mtime_ns, how it was read: sources.reading_key)."""
        return {p: (s, m, r) for p, s, m, r in self.conn.execute("SELECT path, size, mtime_ns, reading FROM files")}

    def staged_keys(self, model_key: str) -> set[tuple[str, str]]:
        return set(self.conn.execute(
            "SELECT article_id, content_hash FROM staged_articles WHERE model_key = ?", (model_key,)))

    # --- staging: committed as the build goes ------------------------------------------------
    def stage(self, model_key: str, items: Iterable[tuple[Article, list[Chunk], np.ndarray]]) -> None:
        with self.transaction():
            for article, chunks, vecs in items:
                row = asdict(article)
                self.conn.execute(
                    f"INSERT OR REPLACE INTO staged_articles (model_key, {', '.join(_ARTICLE_COLS)}) "
                    f"VALUES (?, {', '.join('?' * len(_ARTICLE_COLS))})",
                    [model_key, *(row[c] for c in _ARTICLE_COLS)],
                )
                self.conn.execute("DELETE FROM staged_chunks WHERE article_id = ? AND content_hash = ? AND model_key = ?",
                                  (article.article_id, article.content_hash, model_key))
                self.conn.executemany(
                    'INSERT INTO staged_chunks (model_key, article_id, content_hash, ordinal, start, "end", vector) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(model_key, article.article_id, article.content_hash, c.ordinal, c.start, c.end,
                      np.asarray(v, dtype=np.float32).tobytes()) for c, v in zip(chunks, vecs)],
                )

    # --- publish: one transaction -------------------------------------------------------------
    def begin_publish(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def delete_articles(self, article_ids: Iterable[str]) -> list[int]:
        """Remove articles with their chunks and keyword rows; returns the chunk ids removed."""
        removed: list[int] = []
        for aid in article_ids:
            ids = [r[0] for r in self.conn.execute("SELECT chunk_id FROM chunks WHERE article_id = ?", (aid,))]
            self.conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
            self.conn.execute("DELETE FROM chunks WHERE article_id = ?", (aid,))
            self.conn.execute("DELETE FROM articles WHERE article_id = ?", (aid,))
            self.conn.execute("DELETE FROM article_generations WHERE article_id = ?", (aid,))
            removed.extend(ids)
        return removed

    def relocate(self, articles: Iterable[Article]) -> None:
        """Same content found under another file name: only the location changes."""
        self.conn.executemany("UPDATE articles SET source = ?, record = ? WHERE article_id = ?",
                              [(a.source, a.record, a.article_id) for a in articles])

    def publish_staged(self, model_key: str, keys: Iterable[tuple[str, str]]) -> tuple[list[int], np.ndarray]:
        """Move staged articles into the live tables; returns the new chunk ids and their vectors."""
        new_ids: list[int] = []
        blobs: list[bytes] = []
        cols = ", ".join(_ARTICLE_COLS)
        for aid, chash in keys:
            self.conn.execute(
                f"INSERT INTO articles ({cols}) SELECT {cols} FROM staged_articles "
                "WHERE article_id = ? AND content_hash = ? AND model_key = ?", (aid, chash, model_key))
            title, text = self.conn.execute("SELECT title, text FROM articles WHERE article_id = ?", (aid,)).fetchone()
            rows = self.conn.execute(
                'SELECT ordinal, start, "end", vector FROM staged_chunks '
                "WHERE article_id = ? AND content_hash = ? AND model_key = ? ORDER BY ordinal", (aid, chash, model_key))
            for ordinal, start, end, vector in rows.fetchall():
                cur = self.conn.execute(
                    'INSERT INTO chunks (article_id, ordinal, start, "end", vector) VALUES (?, ?, ?, ?, ?)',
                    (aid, ordinal, start, end, vector))
                self.conn.execute("INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)",
                                  (cur.lastrowid, title, text[start:end]))
                new_ids.append(cur.lastrowid)
                blobs.append(vector)
        vecs = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1) if blobs else None
        return new_ids, vecs

    def mark_generation(self, article_ids: Iterable[str], generation: int) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO article_generations (article_id, generation) VALUES (?, ?)",
                              [(aid, generation) for aid in article_ids])

    def finish_publish(self, meta: dict[str, str], files: dict[str, tuple[int, int, str]]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta.items())
        self.conn.execute("DELETE FROM files")
        self.conn.executemany("INSERT INTO files (path, size, mtime_ns, reading) VALUES (?, ?, ?, ?)",
                              [(p, *sig) for p, sig in files.items()])
        self.conn.execute("DELETE FROM staged_chunks")
        self.conn.execute("DELETE FROM staged_articles")
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self):
        """A write transaction, taken at once (IMMEDIATE) so concurrent writers queue instead of failing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.rollback()  # SQLite may have rolled back already (a full disk): its error is the one to tell
            raise
        self.conn.execute("COMMIT")

    # --- reading ------------------------------------------------------------------------------
    def all_vectors(self, batch: int = 50_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of every live chunk, in batches, for rebuilding the FAISS index."""
        last = -1
        while True:
            rows = self.conn.execute(
                "SELECT chunk_id, vector FROM chunks WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            yield ids, vecs
            last = rows[-1][0]

    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, sorted."""
        (count,) = self.conn.execute("SELECT count(*) FROM chunks").fetchone()
        return np.fromiter((r[0] for r in self.conn.execute("SELECT chunk_id FROM chunks ORDER BY chunk_id")),
                           dtype=np.int64, count=count)

    def quick_check(self) -> str:
        """SQLite's quick check of every page ('' when it passes): damage a build that changes nothing
        would never read."""
        problems = [r[0] for r in self.conn.execute("PRAGMA quick_check(3)")]
        return "" if problems == ["ok"] else "; ".join(problems)

    def vector_dim(self) -> int:
        row = self.conn.execute("SELECT length(vector) / 4 FROM chunks LIMIT 1").fetchone()
        return int(row[0]) if row else int(self.meta().get("dim", "0")) or 384

    def counts(self) -> dict[str, int]:
        (articles,) = self.conn.execute("SELECT count(*) FROM articles").fetchone()
        (chunks,) = self.conn.execute("SELECT count(*) FROM chunks").fetchone()
        return {"articles": articles, "chunks": chunks}

    def date_range(self) -> tuple[str, str]:
        lo, hi = self.conn.execute(
            "SELECT min(published), max(published) FROM articles WHERE published != ''").fetchone()
        return lo or "", hi or ""

    def hits(self, scored: list[tuple[int, float]]) -> list[Hit]:
        """Hits for (chunk_id, score) pairs, in the given order; ids no longer live are dropped."""
        if not scored:
            return []
        ids = [cid for cid, _ in scored]
        rows = self.conn.execute(
            'SELECT c.chunk_id, c.article_id, a.title, a.url, a.published, a.site, c.start, c."end", '
            "substr(a.text, c.start + 1, c.\"end\" - c.start) FROM chunks c JOIN articles a USING (article_id) "
            f"WHERE c.chunk_id IN ({', '.join('?' * len(ids))})", ids).fetchall()
        by_id = {r[0]: r for r in rows}
        return [Hit(*by_id[cid][:8], text=by_id[cid][8], score=score) for cid, score in scored if cid in by_id]

    def keyword(self, match: str, k: int, filter_sql: tuple[str, list] | None = None,
                weights: tuple[float, float] = (1.0, 1.0)) -> list[tuple[int, float]]:
        """(chunk_id, BM25) of the best keyword matches, best first; BM25 is positive, higher is better."""
        where, params = "chunks_fts MATCH ?", [match]
        if filter_sql:
            where += f" AND rowid IN (SELECT chunk_id FROM chunks JOIN articles USING (article_id) WHERE {filter_sql[0]})"
            params += filter_sql[1]
        rows = self.conn.execute(
            f"SELECT rowid, -bm25(chunks_fts, ?, ?) AS s FROM chunks_fts WHERE {where} ORDER BY bm25(chunks_fts, ?, ?) "
            "LIMIT ?", [*weights, *params, *weights, k]).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def _scratch(self) -> None:
        """Temporary FTS5 tables (this connection only) that stem text with the index's own tokenizer."""
        c = self.conn
        c.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_words USING fts5("
                  "w, tokenize = 'porter unicode61 remove_diacritics 2')")
        c.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_stems USING fts5vocab(temp, query_words, instance)")
        c.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunk_terms USING fts5vocab(main, chunks_fts, row)")

    def analyze(self, texts: list[str]) -> list[list[str]]:
        """Each text's words as the keyword index stems them (porter over unicode61), in order: the
        question and the passages are compared on exactly the terms the index holds."""
        if not texts:
            return []
        self._scratch()
        c = self.conn
        c.execute("DELETE FROM temp.query_words")
        c.executemany("INSERT INTO temp.query_words (rowid, w) VALUES (?, ?)", list(enumerate(texts)))
        out: list[list[tuple[int, str]]] = [[] for _ in texts]
        for term, doc, offset in c.execute("SELECT term, doc, offset FROM temp.query_stems"):
            out[doc].append((offset, term))
        return [[t for _, t in sorted(terms)] for terms in out]

    def doc_freqs(self, stems: Iterable[str]) -> dict[str, int]:
        """Chunks holding each stem (title or text), from the FTS5 index's own vocabulary."""
        self._scratch()
        df = {}
        for stem in set(stems):  # one indexed look-up each: cheaper than IN (...) on fts5vocab
            row = self.conn.execute("SELECT doc FROM temp.chunk_terms WHERE term = ?", (stem,)).fetchone()
            df[stem] = row[0] if row else 0
        return df

    def mentions(self, article_ids: list[str], word: str) -> bool:
        """Whether any of these articles (title or text) holds the word, as the keyword index stems it."""
        if not article_ids:
            return False
        phrase = '"' + word.replace('"', '""') + '"'
        return self.conn.execute(
            "SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN (SELECT chunk_id FROM chunks WHERE "
            f"article_id IN ({', '.join('?' * len(article_ids))})) LIMIT 1", [phrase, *article_ids]).fetchone() is not None

    def selective_terms(self, words: list[str], total_chunks: int, keep: int, common_share: float,
                        budget: int) -> list[str]:
        """The words worth a keyword search, rarest first: at most `keep`, none in more than
        `common_share` of the chunks, and no more than `budget` postings in all (BM25 walks every
        posting of every word; the rarest carry the ranking). At least one word always stays.
        Frequencies come from the FTS5 index itself, by each word's stem as its own tokenizer makes it."""
        if len(words) <= 1:
            return words
        stems = [s[0] if s else "" for s in self.analyze(words)]
        df = self.doc_freqs(s for s in stems if s)
        freq = [df.get(s, 0) for s in stems]
        ranked = [i for i in sorted(range(len(words)), key=lambda i: freq[i]) if freq[i] > 0]
        if not ranked:
            return words[:1]  # in no chunk at all: the search will say so
        kept, postings = [], 0
        for i in ranked:
            if len(kept) == keep or freq[i] > common_share * total_chunks or postings + freq[i] > budget:
                break
            kept.append(i)
            postings += freq[i]
        return [words[i] for i in sorted(kept or ranked[:1])]

    def chunks_matching(self, chunk_ids: list[int], filter_sql: tuple[str, list]) -> set[int]:
        if not chunk_ids:
            return set()
        return {r[0] for r in self.conn.execute(
            f"SELECT chunk_id FROM chunks JOIN articles USING (article_id) WHERE chunk_id IN "
            f"({', '.join('?' * len(chunk_ids))}) AND {filter_sql[0]}", [*chunk_ids, *filter_sql[1]])}

    def chunk_ids_where(self, filter_sql: tuple[str, list]) -> list[int]:
        return [r[0] for r in self.conn.execute(
            f"SELECT chunk_id FROM chunks JOIN articles USING (article_id) WHERE {filter_sql[0]}", filter_sql[1])]

    def count_articles(self, filter_sql: tuple[str, list] | None = None) -> int:
        where, params = filter_sql or ("1", [])
        return self.conn.execute(f"SELECT count(*) FROM articles WHERE {where}", params).fetchone()[0]

    def vectors_of(self, chunk_ids: list[int]) -> dict[int, np.ndarray]:
        if not chunk_ids:
            return {}
        rows = self.conn.execute(
            f"SELECT chunk_id, vector FROM chunks WHERE chunk_id IN ({', '.join('?' * len(chunk_ids))})", chunk_ids)
        return {cid: np.frombuffer(blob, dtype=np.float32) for cid, blob in rows}

    def chunks_of(self, article_id: str) -> list[tuple[int, int, int]]:
        """(chunk_id, start, end) of an article's chunks, in order."""
        return [tuple(r) for r in self.conn.execute(
            'SELECT chunk_id, start, "end" FROM chunks WHERE article_id = ? ORDER BY ordinal', (article_id,))]

    def articles(self, article_ids: list[str]) -> dict[str, Article]:
        if not article_ids:
            return {}
        rows = self.conn.execute(f"SELECT {', '.join(_ARTICLE_COLS)} FROM articles "
                                 f"WHERE article_id IN ({', '.join('?' * len(article_ids))})", article_ids)
        return {r[0]: Article(*r) for r in rows}

    def articles_with_record(self, record: str) -> list[str]:
        """Articles by their record in a file: an export's own id (or a WARC record id)."""
        return [r[0] for r in self.conn.execute("SELECT article_id FROM articles WHERE record = ? LIMIT 5", (record,))]

    def articles_with_url(self, url: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT article_id FROM articles WHERE url = ?", (url,))]

    def urls_containing(self, fragment: str, limit: int = 200) -> list[tuple[str, str]]:
        """(article_id, url) of articles whose URL contains the fragment."""
        return list(self.conn.execute("SELECT article_id, url FROM articles WHERE instr(url, ?) > 0 LIMIT ?",
                                      (fragment, limit)))

    def published_between(self, after: int, upto: int) -> list[str]:
        """Articles added or changed by the generations after `after` up to `upto`, oldest first. An
        index built before generations were recorded has none (its articles predate any watch)."""
        try:
            return [r[0] for r in self.conn.execute(
                "SELECT article_id FROM article_generations WHERE generation > ? AND generation <= ? "
                "ORDER BY generation, article_id", (after, upto))]
        except sqlite3.OperationalError:
            return []

    def article(self, article_id: str) -> Article | None:
        row = self.conn.execute(f"SELECT {', '.join(_ARTICLE_COLS)} FROM articles WHERE article_id = ?",
                                (article_id,)).fetchone()
        return Article(*row) if row else None


def filter_sql(filters) -> tuple[str, list] | None:
    """A WHERE clause over `articles` for index.searching.filters.Filters; None when there are none."""
    if not filters:
        return None
    parts, params = [], []
    if filters.since:
        parts.append("published != '' AND published >= ?")
        params.append(filters.since)
    if filters.before:
        parts.append("published != '' AND published < ?")
        params.append(filters.before)
    if filters.site:
        parts.append("(url LIKE ? OR url LIKE ? OR url LIKE ? OR url LIKE ? OR lower(site) = ?)")
        params += [f"%://{filters.site}/%", f"%://{filters.site}", f"%.{filters.site}/%", f"%.{filters.site}",
                   filters.site]
    if filters.author:
        parts.append("instr(lower(author), ?) > 0")
        params.append(filters.author.lower())
    if filters.articles:
        parts.append(f"article_id IN ({', '.join('?' * len(filters.articles))})")
        params += list(filters.articles)
    return " AND ".join(parts), params


def manifest_json(meta: dict[str, str], counts: dict[str, int]) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "model": meta.get("model", ""),
        "dim": int(meta.get("dim", "0")),
        "chunking": json.loads(meta.get("chunking", "{}")),
        "articles": counts["articles"],
        "chunks": counts["chunks"],
        "built_at": meta.get("built_at", ""),
        "generation": int(meta.get("generation", "0")),
        "faiss_file": meta.get("faiss_file", ""),
        "faiss_kind": meta.get("faiss_kind", "flat"),
        "backend": meta.get("backend", "torch"),
    }
    return json.dumps(doc, indent=2) + "\n"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
