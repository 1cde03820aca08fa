"""The reader at question time: a cross-encoder that reads a question and a candidate sentence together
and scores how well the sentence answers it (a logit: above 0, more likely than not).

The bundled reader is an int8 ONNX file in `bundled/`, run with onnxruntime and `tokenizers`: no torch
at question time, nothing downloaded. `[search] reader` may instead name a folder holding another
cross-encoder: an ONNX export of one (`model.onnx` or `reader-int8.onnx` beside its `tokenizer.json`),
or a sentence-transformers / Hugging Face `CrossEncoder` (read with transformers and torch, lazily).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from index.embedding.onnx_model import padded

BUNDLED = "bundled"
NONE = "none"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
MODEL_FILE = "reader-int8.onnx"
MAX_TOKENS = 160  # question and passage together; a news sentence with its title fits in far fewer
MAX_CHARS = 4096  # of the question and of the passage, before tokenizing: far more than MAX_TOKENS take
BATCH = 16


class ReaderError(RuntimeError):
    pass


def passage(title: str, sentence: str) -> str:
    """What the reader reads beside the question: the sentence with its article's title, as the bot
    shows it (the title says what "he" or "the company" is). Training and serving share this."""
    title = " ".join(title.split())
    return f"{title}: {sentence}" if title else sentence


class Reader(Protocol):
    name: str

    def score(self, question: str, passages: list[str]) -> np.ndarray: ...


class OnnxReader:
    """A cross-encoder exported to ONNX: tokenised as pairs with `tokenizers`, one logit per pair."""

    def __init__(self, folder: Path, threads: int | None = None, check: bool = False):
        import onnxruntime as ort

        model = _model_file(folder)
        if model is None or not (folder / "tokenizer.json").is_file():
            raise ReaderError(f"{folder} holds no ONNX reader ({MODEL_FILE} or model.onnx, and tokenizer.json)")
        if check:
            problem = damage(folder, model)
            if problem:
                raise ReaderError(problem)
        meta = _meta(folder)
        self.name = meta.get("name") or str(folder)
        self.tokenizer = _tokenizer(folder)
        self.tokenizer.enable_truncation(max_length=int(meta.get("max_tokens", MAX_TOKENS)), strategy="longest_first")
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        # a question's one small run: spinning threads would only take the cores from FAISS and SQLite
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime's own errors (a file that is no model) are not one class
            raise ReaderError(f"{model} cannot be loaded as an ONNX model ({type(e).__name__}): reinstall the "
                              "package") from None
        self.inputs = {i.name for i in self.session.get_inputs()}

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        # cut before tokenizing (the reader reads MAX_TOKENS): tokenizing a megabyte only to truncate it is slow
        encodings = self.tokenizer.encode_batch([(question[:MAX_CHARS], p[:MAX_CHARS]) for p in passages])
        order = sorted(range(len(passages)), key=lambda i: -len(encodings[i].ids))  # little padding per batch
        out = np.zeros(len(passages), dtype=np.float32)
        for b in range(0, len(order), BATCH):
            idx = order[b:b + BATCH]
            feed = padded([encodings[i] for i in idx])
            (logits,) = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})
            out[idx] = _logit(np.asarray(logits, dtype=np.float32))
        return out


def _logit(logits: np.ndarray) -> np.ndarray:
    """One relevance logit per row: a one-output head as it is, a two-class head as the log-odds of class 1."""
    if logits.ndim == 1:
        return logits
    if logits.shape[1] == 1:
        return logits[:, 0]
    return logits[:, 1] - logits[:, 0]


class TorchReader:
    """A sentence-transformers / Hugging Face cross-encoder folder, read with transformers (torch)."""

    def __init__(self, folder: Path):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.name = str(folder)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        with self.torch.no_grad():
            feed = self.tokenizer([question] * len(passages), passages, padding=True, truncation="longest_first",
                                  max_length=MAX_TOKENS, return_tensors="pt")
            return _logit(self.model(**feed).logits.float().numpy())


def load(setting: str, threads: int | None = None) -> Reader | None:
    """The reader `[search] reader` names: "bundled", "none" (no reader), or a folder."""
    if setting == NONE:
        return None
    if setting == BUNDLED:
        if not (BUNDLED_DIR / MODEL_FILE).is_file():
            raise ReaderError(f"the bundled reader is missing from {BUNDLED_DIR}: reinstall the package, "
                              "or set [search] reader = \"none\"")
        return OnnxReader(BUNDLED_DIR, threads, check=True)
    folder = Path(setting).expanduser()
    if not folder.is_dir():
        raise ReaderError(f"[search] reader: {folder} is not a folder")
    if _model_file(folder):
        # a folder that ships a reader.json (one of ours, trained or copied) is checked as the bundled one is
        return OnnxReader(folder, threads, check=(folder / "reader.json").is_file())
    if (folder / "config.json").is_file():
        return TorchReader(folder)
    raise ReaderError(f"[search] reader: {folder} holds neither an ONNX reader nor a cross-encoder (config.json)")


def damage(folder: Path, model: Path | None = None) -> str | None:
    """What is wrong with a shipped reader's files, in one line, or None: `reader.json` that cannot be
    read or names no sha256, a model file whose sha256 is not the one it names, a missing tokenizer."""
    model = model or folder / MODEL_FILE
    if not model.is_file():
        return f"{model} is missing: reinstall the package, or set [search] reader = \"none\""
    try:
        meta = json.loads((folder / "reader.json").read_text())
        expected = meta["sha256"]
    except (OSError, ValueError, TypeError, KeyError) as e:
        return (f"{folder / 'reader.json'} cannot be read ({type(e).__name__}), so {model.name} cannot be checked: "
                "reinstall the package")
    if _sha256(model) != expected:
        return f"{model} does not match the sha256 in {folder / 'reader.json'}: the file is damaged; reinstall the package"
    if not (folder / "tokenizer.json").is_file():
        return f"{folder / 'tokenizer.json'} is missing: reinstall the package"
    return None


def verify(setting: str) -> str | None:
    """`check` and `stats`: the reader `[search] reader` names is whole (its sha256 and tokenizer), or
    what is wrong with it. A folder of one's own is checked when it ships a reader.json."""
    if setting == NONE:
        return None
    folder = BUNDLED_DIR if setting == BUNDLED else Path(setting).expanduser()
    if setting != BUNDLED and not (folder / "reader.json").is_file():
        return None if folder.is_dir() else f"[search] reader: {folder} is not a folder"
    problem = damage(folder, _model_file(folder))
    if problem:
        return problem
    try:
        _tokenizer(folder)
    except ReaderError as e:
        return str(e)
    return None


def _model_file(folder: Path) -> Path | None:
    return next((folder / n for n in (MODEL_FILE, "model.onnx") if (folder / n).is_file()), None)


def _tokenizer(folder: Path):
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception as e:  # tokenizers raises a bare Exception ("Model missing") for a file it cannot read
        raise ReaderError(f"{folder / 'tokenizer.json'} cannot be read as a tokenizer ({e}): reinstall the "
                          "package") from None


def describe(setting: str) -> str:
    """What `stats` says of the reader in use."""
    if setting == NONE:
        return "none"
    if setting == BUNDLED:
        meta = _meta(BUNDLED_DIR)
        return f"bundled ({meta.get('name', 'reader')}, int8 ONNX, sha256 {meta.get('sha256', '?')[:12]})"
    return setting


def _meta(folder: Path) -> dict:
    try:
        return json.loads((folder / "reader.json").read_text())
    except (OSError, ValueError):
        return {}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()
