"""Retrieval over the published index: dense (FAISS), keyword (FTS5 BM25) and their fusion.

The `Searcher` is what the bot and `archivist ask` hold open. It follows the index's generation:
when a build publishes, the next request loads the new FAISS file. It follows the folder too: when
[index] path is a symlink switched to another snapshot's folder (a replica receiving a shipped
generation), the next request reads from the new folder.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

import numpy as np

from index.storing import vectors
from index.config import SearchSettings
from index.embedding.embed import Embedder
from index.searching.filters import Filters
from index.reader.model import Reader
from index.reader.model import load as load_reader
from index.records import Hit
from index.storing.store import Store, StoreError, filter_sql

log = logging.getLogger("archivist.search")

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves tell say said also did does get got
whose whom which many much
""".split())
MAX_QUERY_TERMS = 32
MAX_KEYWORD_TERMS = 16  # the rarest terms carry BM25; more only lengthens the posting lists walked
COMMON_TERM_SHARE = 0.25  # a term in more than this share of chunks adds little and costs a lot
POSTINGS_BUDGET = 60_000  # keyword search cost grows with the postings walked: ~40 ms for this many
OVERFETCH = 8  # with a filter, candidates looked at per candidate wanted before narrowing the search


def query_terms(text: str) -> list[str]:
    """The words worth matching, lowercased, in order, without repeats."""
    seen: dict[str, None] = {}
    for w in re.findall(r"\w+", text.lower()):
        if len(w) > 1 and w not in STOPWORDS and w not in seen:
            seen[w] = None
    return list(seen)[:MAX_QUERY_TERMS]


def fts_query(terms: list[str]) -> str:
    return " OR ".join(f'"{t}"' for t in terms)


def fuse(dense: list[tuple[int, float]], keyword: list[tuple[int, float]], s: SearchSettings) -> list[tuple[int, float]]:
    """One ranking from the two. Convex: each list's scores divided by its best, weighted and summed;
    a chunk missing from a list gets that list's lowest scaled score (it ranked below all of them).
    On SciFact this beats reciprocal-rank fusion (0.741 against 0.718 nDCG@10; bench/retrieval.py).
    A list shorter than `candidates` holds every chunk that matched at all: one missing from it gets 0
    (else a name in one chunk, the keyword list's only hit, would lift every other chunk as high as it)."""
    fused: dict[int, float] = {}
    if s.fusion == "rrf":
        for weight, results in ((s.dense_weight, dense), (s.keyword_weight, keyword)):
            for rank, (cid, _) in enumerate(results):
                fused[cid] = fused.get(cid, 0.0) + weight / (s.rrf_k + rank + 1)
    else:
        scaled = []
        for weight, results in ((s.dense_weight, dense), (s.keyword_weight, keyword)):
            top = max((x for _, x in results), default=0.0)
            part = {cid: x / top for cid, x in results} if top > 0 else {}
            floor = min(part.values(), default=0.0) if len(results) >= s.candidates else 0.0
            scaled.append((weight, part, floor))
        for cid in {c for _, part, _ in scaled for c in part}:
            fused[cid] = sum(w * part.get(cid, floor) for w, part, floor in scaled)
    return sorted(fused.items(), key=lambda kv: -kv[1])


class Searcher:
    def __init__(self, index_dir: Path, embedder: Embedder, settings: SearchSettings = SearchSettings(),
                 nprobe: int = 48):
        self.index_dir = index_dir
        self.nprobe = nprobe
        self.embedder = embedder
        self.settings = settings
        self.store = Store.open(index_dir, readonly=True)
        self._folder = os.path.realpath(index_dir)
        self._retired: Store | None = None
        self._lock = threading.Lock()
        self._generation = -1
        self._faiss = None
        self.meta: dict[str, str] = {}
        self._stop_stems: frozenset[str] | None = None
        self._dates: tuple[int, tuple[str, str]] = (-1, ("", ""))
        self._reader: Reader | None | Exception = None
        self._reader_loaded = threading.Event()
        # not a daemon: a process that is done before the reader is (a summary by link, a port in use)
        # waits for it at exit. Ended mid-load, onnxruntime's native threads abort the process (SIGABRT,
        # "terminate called without an active exception") after its work is done.
        threading.Thread(target=self._load_reader, name="archivist-reader").start()
        self.refresh()

    @classmethod
    def open(cls, cfg, embedder: Embedder | None = None) -> "Searcher":
        """The searcher over a config's index, with its encoder and settings."""
        return cls(cfg.index_dir(), embedder or Embedder.for_index(cfg.index, serving=True), cfg.search,
                   cfg.index.nprobe)

    def refresh(self) -> bool:
        """Switch to a newly published index, if there is one. True when it switched."""
        with self._lock:
            self._follow_folder()
            for attempt in range(3):
                meta = self.store.meta()
                generation = int(meta.get("generation", "0"))
                if generation == self._generation:
                    return False
                faiss_file = meta.get("faiss_file", "")
                counts = self.store.counts()  # once per generation, not once per question
                try:
                    index = vectors.load_checked(Path(self._folder) / faiss_file, counts["chunks"], int(meta.get("dim", "0")),
                                                 mmap=True) if faiss_file else vectors.empty(384)
                except vectors.Damaged as e:
                    if attempt < 2:
                        continue  # a build published again and removed that file meanwhile: read the newer one
                    why = f"{e}; run `archivist build` to rebuild it from the database (nothing is embedded again)"
                    if self._faiss is None:
                        raise StoreError(why) from None
                    log.error("error: %s; still answering from generation %d", why, self._generation)
                    self._generation = generation  # say it once, not at every question
                    return False
                self._faiss, self._generation, self.meta = index, generation, meta
                self._chunks, self.articles = counts["chunks"], counts["articles"]
                log.info("using index generation %d (%s)", generation, faiss_file)
                return True
            return False

    def _follow_folder(self) -> None:
        """[index] path now leads to another folder (a switched symlink): read that one from now on."""
        folder = os.path.realpath(self.index_dir)
        if folder == self._folder:
            return
        try:
            store = Store.open(self.index_dir, readonly=True)
        except StoreError as e:
            log.error("error: %s is now %s, which cannot be read (%s); still answering from %s", self.index_dir,
                      folder, e, self._folder)
            self._folder = folder  # say it once
            return
        if self._retired is not None:
            self._retired.close()
        # a question being answered in another thread may still read the old one: closed at the next switch
        self._retired, self.store, self._folder, self._generation = self.store, store, folder, -1
        self._stop_stems = None
        log.warning("index folder switched to %s", folder)

    @property
    def chunk_count(self) -> int:
        return self._chunks

    @property
    def generation(self) -> int:
        return self._generation

    def date_range(self) -> tuple[str, str]:
        """The earliest and latest article dates, read once per generation."""
        if self._dates[0] != self._generation:
            self._dates = (self._generation, self.store.date_range())
        return self._dates[1]

    def stop_stems(self) -> frozenset[str]:
        """The stop words as the index stems them: they never count as a question's terms."""
        if self._stop_stems is None:
            self._stop_stems = frozenset(s for stems in self.store.analyze(sorted(STOPWORDS)) for s in stems)
        return self._stop_stems

    def encode_query(self, text: str) -> np.ndarray:
        return self.embedder.encode([text])[0]

    @property
    def reader(self) -> Reader | None:
        """The cross-encoder `[search] reader` names (None for "none"). It loads in a thread of its own
        from the moment the Searcher opens, beside the encoder: a cold `archivist ask` does not wait
        for one after the other. A reader that cannot load raises here, at the first question."""
        self._reader_loaded.wait()
        if isinstance(self._reader, Exception):
            raise self._reader
        return self._reader

    def _load_reader(self) -> None:
        try:
            self._reader = load_reader(self.settings.reader, self.embedder.threads)
        except Exception as e:  # kept for the first question to raise, where it can be reported
            self._reader = e
        finally:
            self._reader_loaded.set()

    def search(self, text: str, filters: Filters = Filters(), mode: str | None = None,
               qvec: np.ndarray | None = None) -> list[Hit]:
        """Candidate chunks for a question, best first. Every hit carries its cosine similarity."""
        self.refresh()
        s = self.settings
        mode = mode or s.mode
        where = filter_sql(filters)
        if qvec is None:
            qvec = self.encode_query(text)
        dense: list[tuple[int, float]] = []
        keyword: list[tuple[int, float]] = []
        if mode in ("dense", "hybrid"):
            dense = self._filtered(
                lambda k: vectors.search(self._faiss, qvec, k, None, self.nprobe), where,
                lambda: vectors.search(self._faiss, qvec, s.candidates, self.store.chunk_ids_where(where), self.nprobe))
        if mode in ("keyword", "hybrid"):
            terms = self.store.selective_terms(query_terms(text), self._chunks, MAX_KEYWORD_TERMS, COMMON_TERM_SHARE,
                                               POSTINGS_BUDGET)
            if terms:
                weights = (s.title_weight, 1.0)
                keyword = self._filtered(lambda k: self.store.keyword(fts_query(terms), k, None, weights), where,
                                         lambda: self.store.keyword(fts_query(terms), s.candidates, where, weights))
        if mode == "dense":
            ranked = dense
        elif mode == "keyword":
            ranked = keyword
        else:
            ranked = fuse(dense, keyword, s)
        similarity = dict(dense)
        missing = [cid for cid, _ in ranked if cid not in similarity]
        for cid, vec in self.store.vectors_of(missing).items():
            similarity[cid] = float(np.dot(vec, qvec))
        hits = self.store.hits(ranked)
        return [Hit(**{**h.__dict__, "similarity": similarity.get(h.chunk_id, 0.0)}) for h in hits]

    def _filtered(self, search, where, narrow) -> list[tuple[int, float]]:
        """With a filter, search wide and keep what passes: cheap for broad filters, where listing every
        allowed chunk would cost more than the search. A narrow filter leaves too few; search only
        among the chunks it allows."""
        k = self.settings.candidates
        if not where:
            return search(k)
        wide = search(k * OVERFETCH)
        keep = self.store.chunks_matching([cid for cid, _ in wide], where)
        passed = [(cid, score) for cid, score in wide if cid in keep][:k]
        return passed if len(passed) >= k // 4 or len(wide) < k * OVERFETCH else narrow()

    def dense(self, query: str, k: int) -> list[Hit]:
        return self.search(query, mode="dense")[:k]

    def close(self) -> None:
        self.store.close()
