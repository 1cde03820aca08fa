"""Scale features: the FAISS kind follows the archive's size, memory-mapped reading, the onnx-int8 encoder,
and keyword search that skips words too common to matter."""
import json
import shutil

import faiss
import numpy as np

from conftest import EXAMPLES, JSONL_FIELDS
from index.storing import vectors
from index.storing.build import build
from index.config import parse
from index.searching.search import Searcher


def test_ivf_finds_what_exact_search_finds_and_honours_filters(tmp_path):
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(50, 64)).astype(np.float32)
    data = centers[rng.integers(0, 50, 20_000)] + 0.3 * rng.normal(size=(20_000, 64)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    ids = np.arange(100, 20_100, dtype=np.int64)
    exact = vectors.build(64, [(ids, data)], "flat")
    approx = vectors.build(64, [(ids[:10_000], data[:10_000]), (ids[10_000:], data[10_000:])], "ivf")
    assert vectors.kind_of(exact) == "flat" and vectors.kind_of(approx) == "ivf"
    assert faiss.downcast_index(approx).nlist == vectors.ivf_lists(20_000) == 500
    recall = []
    for q in data[rng.integers(0, 20_000, 50)]:
        want = {i for i, _ in vectors.search(exact, q, 10)}
        got = {i for i, _ in vectors.search(approx, q, 10, nprobe=48)}
        recall.append(len(want & got) / 10)
    assert np.mean(recall) >= 0.95
    allowed = [int(i) for i in ids[::97]]
    hits = vectors.search(approx, data[0], 10, allowed=allowed, nprobe=48)
    assert hits and {i for i, _ in hits} <= set(allowed)
    path = tmp_path / "v.faiss"
    vectors.save(approx, path)
    mapped = vectors.load(path, mmap=True)
    assert vectors.search(mapped, data[5], 3, nprobe=48)[0][0] == 105


def test_kind_follows_the_size_and_switching_needs_no_re_embedding(tmp_path, embedder):
    archive = tmp_path / "archive"
    shutil.copytree(EXAMPLES, archive)
    sources = [{"path": str(archive)}, {"path": str(archive / "exports" / "wikinews.jsonl"), "format": "jsonl",
                                        "fields": JSONL_FIELDS}]
    small = parse({"index": {"path": str(tmp_path / "idx"), "approximate_above": 100}, "sources": sources}, tmp_path)
    first = build(small, embedder=embedder)
    manifest = json.loads((small.index_dir() / "manifest.json").read_text())
    assert manifest["faiss_kind"] == "ivf" and manifest["chunks"] > 100
    s = Searcher.open(small, embedder)
    assert s.dense("why did the tech company stop selling face recognition to police?", 1)[0].title.startswith("IBM")
    s.close()
    large = parse({"index": {"path": str(tmp_path / "idx")}, "sources": sources}, tmp_path)  # default threshold
    again = build(large, embedder=embedder)
    assert again.chunks_embedded == 0 and again.unchanged == first.added
    assert json.loads((small.index_dir() / "manifest.json").read_text())["faiss_kind"] == "flat"


def test_onnx_int8_backend_is_its_own_model_key_and_still_finds_the_article(tmp_path, embedder):
    archive = tmp_path / "archive"
    shutil.copytree(EXAMPLES / "text", archive)
    base = {"path": str(tmp_path / "idx")}
    fp32_cfg = parse({"index": base, "sources": [{"path": str(archive)}]}, tmp_path)
    build(fp32_cfg, embedder=embedder)
    int8_cfg = parse({"index": {**base, "backend": "onnx-int8"}, "sources": [{"path": str(archive)}]}, tmp_path)
    s = build(int8_cfg)  # the quantised export of the bundled model: other vectors, so embedded again
    assert s.updated == 1 and s.chunks_embedded > 0
    assert json.loads((int8_cfg.index_dir() / "manifest.json").read_text())["backend"] == "onnx-int8"
    searcher = Searcher.open(int8_cfg)
    assert searcher.embedder.backend == "onnx-int8"
    assert searcher.dense("IBM facial recognition police", 1)[0].title.startswith("IBM")
    searcher.close()


def test_keyword_search_keeps_the_rare_words(searcher):
    n = searcher.store.counts()["chunks"]
    words = ["said", "ibm", "facial", "recognition", "year", "people", "police", "business", "letter", "congress"]
    kept = searcher.store.selective_terms(words, n, keep=4, common_share=0.1, budget=10_000)
    assert len(kept) == 4 and "said" not in kept and "ibm" in kept
    assert len(searcher.store.selective_terms(words, n, keep=8, common_share=1.0, budget=1)) == 1  # the rarest stays
    assert searcher.store.selective_terms(["said", "zzzqqq"], n, 8, 0.1, 10_000) == ["said"]  # in no chunk: no use
