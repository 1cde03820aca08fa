"""The FAISS index over chunk vectors: a cache derived from SQLite. The only module that touches FAISS.

Its kind follows the archive's size: exact inner-product search ("flat") while that is fast enough,
and an inverted-file index with 8-bit scalar quantisation ("ivf": a quarter of the memory, a scan
of a few of its lists per query) beyond a threshold. Ids are chunk ids either way.
"""
from __future__ import annotations

import logging
import math
import errno
import os
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger("archivist.vectors")

KINDS = ("flat", "ivf")
TRAIN_PER_LIST = 40  # k-means training points per inverted list (FAISS warns below 39)
FILTERED_NPROBE_FACTOR = 4  # a filter leaves fewer candidates per list: look in more lists


def kind_for(n: int, setting: str, approximate_above: int) -> str:
    if setting != "auto":
        return setting
    return "ivf" if n > approximate_above else "flat"


def kind_of(index: faiss.Index) -> str:
    return "ivf" if isinstance(faiss.downcast_index(index), faiss.IndexIVF) else "flat"


def ivf_lists(n: int) -> int:
    return max(1, min(int(4 * math.sqrt(n)), n // TRAIN_PER_LIST))


def empty(dim: int) -> faiss.Index:
    """Exact inner-product search (vectors are normalised, so this is cosine) keyed by chunk id."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def build(dim: int, batches: Iterable[tuple[np.ndarray, np.ndarray]], kind: str = "flat",
          seed: int = 0) -> faiss.Index:
    if kind == "flat":
        index = empty(dim)
        for ids, vecs in batches:
            index.add_with_ids(vecs, ids)
        return index
    parts = list(batches)
    n = sum(len(ids) for ids, _ in parts)
    nlist = ivf_lists(n)
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    all_vecs = np.concatenate([v for _, v in parts]) if parts else np.zeros((0, dim), dtype=np.float32)
    rng = np.random.default_rng(seed)
    sample = all_vecs[rng.choice(n, size=min(n, TRAIN_PER_LIST * nlist), replace=False)] if n else all_vecs
    log.info("training an IVF index: %d lists on %d of %d vectors", nlist, len(sample), n)
    index.train(sample)
    for ids, vecs in parts:
        index.add_with_ids(vecs, ids)
    return index


def update(index: faiss.Index, remove: list[int], add_ids: list[int], add_vecs: np.ndarray | None) -> None:
    if remove:
        index.remove_ids(np.asarray(remove, dtype=np.int64))
    if add_ids:
        index.add_with_ids(add_vecs, np.asarray(add_ids, dtype=np.int64))


def save(index: faiss.Index, path: Path) -> None:
    """Write whole or not at all: to a temporary name, synced, then renamed into place. A failed write
    leaves nothing behind (a part-written file would hold on to the space a full disk lacks)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        faiss.write_index(index, str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
    except (RuntimeError, OSError) as e:
        tmp.unlink(missing_ok=True)
        if "No space left on device" in str(e) or "Disk quota exceeded" in str(e):
            raise OSError(errno.ENOSPC, f"no space left to write {path.name}") from None
        raise
    os.replace(tmp, path)


def load(path: Path, mmap: bool = False) -> faiss.Index:
    """Read a FAISS file; memory-mapped (pages read on demand, shared between processes) when asked."""
    if mmap:
        try:
            return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError as e:
            log.info("cannot memory-map %s (%s); reading it", path, e)
    return faiss.read_index(str(path))


class Damaged(RuntimeError):
    """The vector file is missing, unreadable or out of step with the database."""


def digest(path: Path) -> str:
    """The file's sha256, recorded when a build publishes it: damage inside it (bytes overwritten on
    disk) changes no count or id, only vectors, which then find nothing."""
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def differing_text(name: str, bad: int) -> str:
    return f"the vector file {name} holds {bad} vector{'s' * (bad != 1)} that differ{'s' * (bad == 1)} from the database's"


def differing(index: faiss.Index, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> int | None:
    """How many of an exact index's vectors differ from the database's (or are not numbers); None for
    an approximate index, whose 8-bit codes only approximate them."""
    index = faiss.downcast_index(index)
    if not isinstance(index, faiss.IndexIDMap2):
        return None
    flat = faiss.downcast_index(index.index)
    stored = faiss.vector_to_array(flat.codes).view(np.float32).reshape(index.ntotal, index.d)
    row = {int(cid): i for i, cid in enumerate(faiss.vector_to_array(index.id_map))}
    bad = 0
    for ids, vecs in batches:
        mine = stored[[row.get(int(c), 0) for c in ids]]
        bad += int((~np.isclose(mine, vecs, atol=1e-6).all(axis=1)).sum())
    return bad


def load_checked(path: Path, chunks: int, dim: int, mmap: bool = False) -> faiss.Index:
    """`load`, and the index must hold as many vectors of the stated dimension as the database holds
    chunks: a truncated, overwritten or stale file is as bad as a missing one."""
    if not path.is_file():
        raise Damaged(f"the vector file {path.name} is missing")
    try:
        index = load(path, mmap=mmap)
    except RuntimeError:
        raise Damaged(f"the vector file {path.name} is damaged (FAISS cannot read it)") from None
    if index.ntotal != chunks or (dim and index.d != dim):
        raise Damaged(f"the vector file {path.name} is out of step with the database "
                      f"({index.ntotal} vectors of {index.d} dimensions; the database has {chunks} of {dim})")
    return index


def load_verified(path: Path, chunk_ids: np.ndarray, dim: int, mmap: bool = False, sha256: str = "") -> faiss.Index:
    """`load_checked`, and the index holds exactly the database's chunk ids (sorted): a file of an older
    build with the same count holds vectors of other chunks; and, when the build recorded one, the file's
    sha256 is the one it wrote. What `check` flags, `build` repairs."""
    index = load_checked(path, len(chunk_ids), dim, mmap)
    if not np.array_equal(ids(index), chunk_ids):
        raise Damaged(f"the vector file {path.name} holds other chunk ids than the database")
    if sha256 and digest(path) != sha256:
        raise Damaged(f"the vector file {path.name} is not the file the build wrote (its sha256 differs): damaged on disk")
    return index


def ids(index: faiss.Index) -> np.ndarray:
    """The chunk ids an index holds, sorted."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIVF):
        lists = index.invlists
        found = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy() for i in range(index.nlist)
                 if lists.list_size(i)]
        out = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    else:
        out = faiss.vector_to_array(index.id_map)
    return np.sort(out)


def search(index: faiss.Index, query: np.ndarray, k: int, allowed: list[int] | None = None,
           nprobe: int = 32) -> list[tuple[int, float]]:
    """(chunk_id, inner product) of the k nearest, best first; only among `allowed` ids when given."""
    if index.ntotal == 0 or k <= 0 or allowed == []:
        return []
    q = np.asarray(query, dtype=np.float32).reshape(1, -1)
    ivf = kind_of(index) == "ivf"
    sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)) if allowed is not None else None
    if ivf:
        probe = nprobe * (FILTERED_NPROBE_FACTOR if sel is not None else 1)
        params = faiss.SearchParametersIVF(nprobe=min(probe, faiss.downcast_index(index).nlist), sel=sel)
    else:
        params = faiss.SearchParameters(sel=sel) if sel is not None else None
    n = min(k, index.ntotal, len(allowed) if allowed is not None else k)
    # one query runs faster on one thread than on every core woken for it (flat, 100,000 vectors, 2 cores:
    # 8 ms against 18 ms); IVF searches one query on one thread anyway
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        scores, ids = index.search(q, n, params=params) if params is not None else index.search(q, n)
    finally:
        faiss.omp_set_num_threads(threads)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
