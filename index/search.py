"""Reading the published index: the searcher the bot and `archivist ask` hold open.

It follows the index's generation: when a build publishes, the next request loads the new FAISS file.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from index import vectors
from index.embed import Embedder
from index.records import Hit
from index.store import Store

log = logging.getLogger("archivist.search")


class Searcher:
    def __init__(self, index_dir: Path, embedder: Embedder):
        self.index_dir = index_dir
        self.embedder = embedder
        self.store = Store.open(index_dir, readonly=True)
        self._lock = threading.Lock()
        self._generation = -1
        self._faiss = None
        self.refresh()

    def refresh(self) -> bool:
        """Switch to a newly published index, if there is one. True when it switched."""
        with self._lock:
            for attempt in range(3):
                meta = self.store.meta()
                generation = int(meta.get("generation", "0"))
                if generation == self._generation:
                    return False
                faiss_file = meta.get("faiss_file", "")
                try:
                    index = vectors.load(self.index_dir / faiss_file) if faiss_file else vectors.empty(384)
                except RuntimeError:
                    if attempt == 2:
                        raise
                    continue  # a build published again and removed that file meanwhile: read the newer one
                self._faiss, self._generation, self.meta = index, generation, meta
                log.info("using index generation %d (%s)", generation, faiss_file)
                return True
            return False

    def dense(self, query: str, k: int) -> list[Hit]:
        self.refresh()
        qvec = self.embedder.encode([query])[0]
        return self.store.hits(vectors.search(self._faiss, qvec, k))

    def close(self) -> None:
        self.store.close()
