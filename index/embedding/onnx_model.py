"""The encoder on ONNX Runtime: the sentence-transformers model exported once to ONNX, then run with
`onnxruntime` and `tokenizers` only, so no process after the export imports torch.

The export (torch and transformers, lazily) writes the model's transformer to an ONNX file in a cache
folder keyed by the content of the model's own files, checks that its vectors equal the torch
model's on a fixed set of texts, and moves into place only then. Tokenisation, mean pooling and
normalisation follow the model's sentence-transformers configuration (max_seq_length, pooling mode).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger("archivist.embed")

# said once, here and in the README: measured on 2 cores (the first `archivist build` of the sample, 26 s)
EXPORTING = "exporting the encoder to ONNX, once for this model: about 30 seconds"
EXPORT_VERSION = 2  # raise when the export itself changes: older cached exports are made again
SAME = 0.9999  # the least cosine, text by text, between ONNX and torch vectors for fp32 to count as the same model
CHECK_TEXTS = (
    "IBM is getting out of the facial recognition business.",
    "Who opposed the harbour bridge, and why?",
    "",
    "a",
    "Ünïcödé — naïve café, 東京の地下鉄, Москва, القاهرة, Ελλάδα.",
    "The council met on Monday. " * 80,  # longer than the model's 256 tokens: truncated alike
)
_MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "modules.json",
                "sentence_bert_config.json", "1_Pooling/config.json")


class ExportError(RuntimeError):
    pass


def cache_root() -> Path:
    base = os.environ.get("ARCHIVIST_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "archivist" / "onnx"


def model_hash(model_dir: Path) -> str:
    """Identifies the model by its files' content: a changed model gets a new export."""
    h = hashlib.sha256(f"export-{EXPORT_VERSION}".encode())
    for name in _MODEL_FILES:
        p = model_dir / name
        if p.is_file():
            h.update(name.encode())
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(2**20), b""):
                    h.update(block)
    return h.hexdigest()[:20]


def export_dir(model_dir: Path) -> Path:
    return cache_root() / model_hash(model_dir)


def _settings(model_dir: Path) -> tuple[int, str]:
    """(max_seq_length, pooling) from the model's sentence-transformers files."""
    try:
        max_len = int(json.loads((model_dir / "sentence_bert_config.json").read_text()).get("max_seq_length", 256))
    except (OSError, ValueError):
        max_len = 256
    try:
        pool = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        pool = {"pooling_mode_mean_tokens": True}
    mode = "cls" if pool.get("pooling_mode_cls_token") else "mean"
    return max_len, mode


class OnnxEncoder:
    """Tokenise with `tokenizers`, run the ONNX graph, pool and normalise in numpy."""

    def __init__(self, folder: Path, quantized: bool, threads: int | None = None, device: str = "cpu",
                 spin: bool = True):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((folder / "export.json").read_text())
        self.max_len, self.pooling, self.dim = meta["max_seq_length"], meta["pooling"], meta["dim"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_len)
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        if not spin:
            # between a question's few small runs, spinning threads only take the cores from FAISS and SQLite
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        name = "model-int8.onnx" if quantized else "model.onnx"
        providers = (["CUDAExecutionProvider"] if device == "cuda" else []) + ["CPUExecutionProvider"]
        self.session = ort.InferenceSession(str(folder / name), opts, providers=providers)
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int = 8) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))  # little padding per batch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            feed = padded([encodings[i] for i in idx])
            mask = feed["attention_mask"]
            (hidden,) = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                m = mask[:, :, None].astype(np.float32)
                pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out


def padded(encodings) -> dict[str, np.ndarray]:
    """`tokenizers` encodings as model inputs, padded to the longest of them (not to the maximum)."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def ensure_export(model_dir: Path, quantized: bool) -> Path:
    """The verified export of this model (made now if missing or damaged); its folder."""
    folder = export_dir(model_dir)
    name = "model-int8.onnx" if quantized else "model.onnx"
    if _usable(folder, name):
        return folder
    if (folder / "model.onnx").exists() or (folder / "export.json").exists():
        log.warning("the cached ONNX export in %s is damaged or partial; exporting again", folder)
    log.warning(EXPORTING)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        _export(model_dir, work)
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(work, folder)  # whole or not at all: readers never see a half-written export
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not _usable(folder, name):
        raise ExportError(f"the ONNX export in {folder} cannot be loaded")
    return folder


def _usable(folder: Path, name: str) -> bool:
    """The export is complete and loads: its files, its stated checksum, and a session that runs."""
    try:
        meta = json.loads((folder / "export.json").read_text())
        data = (folder / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["sha256"][name]:
            return False
        OnnxEncoder(folder, quantized=name != "model.onnx", threads=1).encode(["check"])
        return True
    except Exception:  # any failure to read or run it means: make it again
        return False


def _export(model_dir: Path, work: Path) -> None:
    # the tracer and the quantiser warn about things that do not apply to this fixed graph (shape
    # asserts traced as constants, optional pre-processing); the check below is what counts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet = logging.getLogger()
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            _export_checked(model_dir, work)
        finally:
            quiet.setLevel(level)


def _fuse(path: Path, config) -> None:
    """Fuse attention, layer norms and GELU with onnxruntime's transformer optimizer, for BERT-like
    models; portable level 1, not the machine-specific level that serialised models must not use.
    Anything else keeps the plain graph (the check after the export guards either way)."""
    if getattr(config, "model_type", "") not in ("bert", "roberta", "mpnet", "xlm-roberta"):
        return
    from onnxruntime.transformers import optimizer

    try:
        model = optimizer.optimize_model(str(path), model_type="bert", num_heads=config.num_attention_heads,
                                         hidden_size=config.hidden_size, opt_level=1)
        model.save_model_to_file(str(path))
    except Exception as e:  # an optimizer that cannot handle this graph: the plain one is still right
        log.warning("ONNX graph not fused (%s); using it as exported", e)


def _export_checked(model_dir: Path, work: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # "Loading weights" bars: the line above says what happens

    # eager attention exports the attention as plain operators, which onnxruntime's transformer
    # optimizer recognises and fuses (the SDPA form it does not): about 1.2x faster, same vectors
    st = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"})
    transformer = st[0].auto_model.eval()
    max_len, pooling = _settings(model_dir)

    class Hidden(torch.nn.Module):  # the transformer alone, returning its last hidden state
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    sample = st.tokenizer(["an example sentence", "and a second, longer example sentence"], padding=True,
                          return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "token_type_ids": {0: "batch", 1: "seq"}, "hidden": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(Hidden(transformer), args, str(work / "model.onnx"), dynamo=False,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["hidden"],
                          dynamic_axes=axes, opset_version=17)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # int8 from the plain graph (the quantiser cannot type the fused one), then fp32 fused
    quantize_dynamic(str(work / "model.onnx"), str(work / "model-int8.onnx"), weight_type=QuantType.QInt8)
    _fuse(work / "model.onnx", transformer.config)
    shutil.copyfile(model_dir / "tokenizer.json", work / "tokenizer.json")
    dim = int(st.get_sentence_embedding_dimension())
    files = {n: hashlib.sha256((work / n).read_bytes()).hexdigest() for n in ("model.onnx", "model-int8.onnx")}
    (work / "export.json").write_text(json.dumps({"max_seq_length": max_len, "pooling": pooling, "dim": dim,
                                                  "sha256": files, "model": str(model_dir)}))
    # the check: the ONNX path must give the torch model's vectors, and tokenise as it does
    want = st.encode(list(CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True)
    enc = OnnxEncoder(work, quantized=False)
    got = enc.encode(list(CHECK_TEXTS))
    worst = float(min((want * got).sum(axis=1)))
    for text in CHECK_TEXTS:
        theirs = st.tokenizer(text, truncation=True, max_length=max_len)["input_ids"]
        if enc.tokenizer.encode(text).ids != theirs:
            raise ExportError(f"ONNX tokenisation differs from the model's on {text[:40]!r}")
    if worst < SAME:
        raise ExportError(f"ONNX vectors differ from torch's (least cosine {worst:.5f} < {SAME})")
    int8 = OnnxEncoder(work, quantized=True).encode(list(CHECK_TEXTS))
    meta = json.loads((work / "export.json").read_text())
    meta |= {"fp32_min_cosine": worst, "int8_min_cosine": float(min((want * int8).sum(axis=1)))}
    (work / "export.json").write_text(json.dumps(meta))
    log.warning("ONNX export verified: least cosine to torch %.6f (fp32), %.4f (int8)", worst,
                meta["int8_min_cosine"])
