"""Stand-ins for tests about plumbing, where what a text means does not matter (also imported by child processes)."""

from __future__ import annotations

import hashlib

import numpy as np


class HashEmbedder:
    """Deterministic vectors from a hash: for plumbing tests where meaning does not matter."""

    name, dim, max_tokens = "all-MiniLM-L6-v2", 384, 256

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """One unit vector per text."""
        rows = [np.frombuffer(hashlib.sha512(t.encode()).digest() * 6, dtype=np.uint8)[:384] for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim) + 1
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Roughly one token per word."""
        return [len(t.split()) + 2 for t in texts]
