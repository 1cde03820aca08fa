"""The encoder on ONNX Runtime: exported once and verified against torch, reused by later processes
without importing torch, the same vectors (an index built with torch is searched with ONNX as is),
a damaged export made again, and int8 as a model of its own."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLES
from index.embedding import onnx_model
from index.storing.build import build
from index.config import parse
from index.embedding.embed import Embedder, model_path
from index.searching.search import Searcher

MODEL = Path(model_path("bundled"))
TEXTS = ["IBM is getting out of the facial recognition business.", "", "?",
         "Ünïcödé — naïve café, 東京の地下鉄, Москва, القاهرة.", "The council met on Monday. " * 120]


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory):
    """An empty export cache, exported into once for this module."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    old = os.environ.get("ARCHIVIST_CACHE")
    os.environ["ARCHIVIST_CACHE"] = str(cache)
    folder = onnx_model.ensure_export(MODEL, quantized=False)
    yield cache, folder
    if old is None:
        del os.environ["ARCHIVIST_CACHE"]
    else:
        os.environ["ARCHIVIST_CACHE"] = old


def test_export_is_verified_and_gives_torch_vectors(fresh_cache):
    cache, folder = fresh_cache
    assert folder.parent == cache / "archivist" / "onnx" and folder.name == onnx_model.model_hash(MODEL)
    meta = json.loads((folder / "export.json").read_text())
    assert meta["fp32_min_cosine"] >= onnx_model.SAME and meta["max_seq_length"] == 256 and meta["dim"] == 384
    onnx = onnx_model.OnnxEncoder(folder, quantized=False).encode(TEXTS)
    torch = Embedder(backend="torch").encode(TEXTS)
    assert onnx.shape == torch.shape == (len(TEXTS), 384)
    assert float((onnx * torch).sum(axis=1).min()) >= 0.9999
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


def test_tokens_equal_the_models_own(fresh_cache):
    from transformers import AutoTokenizer

    theirs = AutoTokenizer.from_pretrained(str(MODEL))
    ours = onnx_model.OnnxEncoder(fresh_cache[1], quantized=False).tokenizer
    for text in TEXTS:
        assert ours.encode(text).ids == theirs(text, truncation=True, max_length=256)["input_ids"], text[:30]
    assert len(ours.encode(TEXTS[-1]).ids) == 256  # truncated at the model's maximum, as sentence-transformers does


def test_a_second_process_uses_the_cached_export_without_torch(fresh_cache):
    code = ("import sys, json; from index.embedding.embed import Embedder; v = Embedder().encode(['harbour bridge']); "
            "print(json.dumps({'torch': 'torch' in sys.modules, 'st': 'sentence_transformers' in sys.modules, "
            "'dim': int(v.shape[1])}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ARCHIVIST_CACHE": str(fresh_cache[0])})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"torch": False, "st": False, "dim": 384}
    assert "exporting" not in out.stderr


def test_a_damaged_export_is_detected_and_made_again(fresh_cache, caplog):
    _, folder = fresh_cache
    model = folder / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])  # a partial write
    with caplog.at_level("WARNING", logger="archivist.embed"):
        again = onnx_model.ensure_export(MODEL, quantized=False)
    assert again == folder
    assert any("damaged or partial; exporting again" in r.getMessage() for r in caplog.records)
    assert onnx_model.OnnxEncoder(folder, quantized=False).encode(["ok"]).shape == (1, 384)


def test_an_index_built_with_torch_is_searched_with_onnx_as_is(tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(EXAMPLES / "html", archive)
    base = {"path": str(tmp_path / "idx")}
    torch_cfg = parse({"index": {**base, "backend": "torch"}, "sources": [{"path": str(archive)}]}, tmp_path)
    first = build(torch_cfg)
    onnx_cfg = parse({"index": {**base, "backend": "onnx"}, "sources": [{"path": str(archive)}]}, tmp_path)
    again = build(onnx_cfg)
    assert (again.chunks_embedded, again.unchanged, again.updated) == (0, first.added, 0)  # no re-embedding
    questions = ["Iranian cargo plane crash", "hotel fire in Delhi", "Boris Johnson elected leader"]
    tops = {}
    for cfg in (torch_cfg, onnx_cfg):
        s = Searcher.open(cfg)
        tops[cfg.index.backend] = [[h.article_id for h in s.dense(q, 5)] for q in questions]
        s.close()
    assert tops["torch"] == tops["onnx"]


def test_the_device_is_the_cpu_here_and_a_missing_gpu_is_said(caplog, tmp_path):
    import logging

    import pytest

    from index.config import ConfigError, parse
    from index.embedding.embed import Embedder, resolve_device

    assert resolve_device("onnx", "auto") == "cpu" and resolve_device("onnx", "cpu") == "cpu"
    with caplog.at_level(logging.WARNING, logger="archivist.embed"):
        assert resolve_device("onnx", "cuda") == "cpu"
    assert caplog.messages == ['[index] device = "cuda", but the onnx backend sees no CUDA device: using the CPU']
    e = Embedder(device="auto")
    assert (e.device, e.batch, e.describe()) == ("cpu", 8, "onnx on cpu")
    with pytest.raises(ConfigError, match=r"\[index\] device must be one of auto, cpu, cuda, not 'tpu'"):
        parse({"index": {"device": "tpu"}}, tmp_path)


def test_the_first_export_is_announced_in_the_readmes_words():
    """The README said about 15 s, the tool about a minute, a progress bar showed besides; it takes
    about 30 s on 2 cores. One sentence, the same in both."""
    from pathlib import Path

    from index.embedding.onnx_model import EXPORTING

    assert f'"{EXPORTING}"' in " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
