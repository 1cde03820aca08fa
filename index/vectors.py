"""The FAISS index over chunk vectors: a cache derived from SQLite. The only module that touches FAISS."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np


def empty(dim: int) -> faiss.Index:
    """Exact inner-product search (vectors are normalised, so this is cosine) keyed by chunk id."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def build(dim: int, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> faiss.Index:
    index = empty(dim)
    for ids, vecs in batches:
        index.add_with_ids(vecs, ids)
    return index


def update(index: faiss.Index, remove: list[int], add_ids: list[int], add_vecs: np.ndarray | None) -> None:
    if remove:
        index.remove_ids(np.asarray(remove, dtype=np.int64))
    if add_ids:
        index.add_with_ids(add_vecs, np.asarray(add_ids, dtype=np.int64))


def save(index: faiss.Index, path: Path) -> None:
    """Write whole or not at all: to a temporary name, synced, then renamed into place."""
    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: Path) -> faiss.Index:
    return faiss.read_index(str(path))


def search(index: faiss.Index, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
    """(chunk_id, inner product) of the k nearest, best first; only among `allowed` ids when given."""
    if index.ntotal == 0 or k <= 0 or allowed == []:
        return []
    q = np.asarray(query, dtype=np.float32).reshape(1, -1)
    if allowed is not None:
        sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        scores, ids = index.search(q, min(k, len(allowed)), params=faiss.SearchParameters(sel=sel))
    else:
        scores, ids = index.search(q, min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
