"""Dense search over passage vectors with FAISS; the one place that decides the index shape."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from index.records import Hit
from index.scope import PassageWithin, passage_ids

IndexKind = Literal["flat", "hnsw"]


def build_vectors(vectors: np.ndarray, kind: IndexKind = "flat") -> faiss.Index:
    """Build the FAISS index for unit vectors, where inner product equals cosine similarity."""
    dim = vectors.shape[1]
    # A blog's few thousand passages fit an exact flat scan in well under a millisecond; HNSW pays
    # off from a few tens of thousands (bench: ~35,000), at a small recall cost.
    index: faiss.Index
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class VectorSearch:
    """A loaded FAISS index: nearest passages to a query vector, optionally within a subset."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index  # exact vectors: what is saved, and what ingest reuses

    @cached_property
    def _scan(self) -> faiss.Index:
        # Built on first use: ingest and the author tools open versions without searching them.
        return _half_precision(self.index) if isinstance(self.index, faiss.IndexFlat) else self.index

    def prepare(self) -> None:
        """Build what queries scan now (~60 ms for the real blog), so the first search does not pay for it."""
        _ = self._scan

    @classmethod
    def load(cls, path: Path) -> VectorSearch:
        """Read a FAISS file written by `save`, to serve queries one at a time."""
        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        """Write the FAISS index to one file."""
        faiss.write_index(self.index, str(path))

    @property
    def count(self) -> int:
        """Number of vectors stored."""
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.index.d)

    def search(self, vector: np.ndarray, k: int, within: PassageWithin | None = None) -> list[Hit]:
        """Return the k passages closest to `vector`, best first, restricted to `within` when given."""
        allowed = None if within is None else passage_ids(within)
        if self.count == 0 or k <= 0 or (allowed is not None and not allowed):
            return []
        # One thread scans a blog's vectors in under a millisecond; OpenMP's extra threads only add
        # start-up cost per query and then spin for milliseconds against the model's threads and the
        # next request. The setting belongs to the calling thread, so it is made by the thread that
        # searches: the service's requests run on pool threads, not on the one that loaded the index.
        faiss.omp_set_num_threads(1)
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]  # the stubs lack `sel`
        scores, ids = self._scan.search(query, min(k, self.count), params=params)
        return [Hit(i, s) for i, s in zip(ids[0].tolist(), scores[0].tolist(), strict=True) if i >= 0]

    def all_vectors(self) -> np.ndarray:
        """Every stored vector in id order (to reuse unchanged passages' embeddings)."""
        return self.index.reconstruct_n(0, self.count) if self.count else np.zeros((0, self.dim), np.float32)


def _half_precision(flat: faiss.IndexFlat) -> faiss.Index:
    """A copy of a flat index that scans 16-bit floats: a flat scan is bound by memory bandwidth,
    so half the bytes take half the time (0.40 vs 0.67 ms on the real blog). Scores move by ~1e-4,
    and the top 100 stayed the same for 99.99 % of queries' passages (bench/QUALITY.md)."""
    scan = faiss.IndexScalarQuantizer(flat.d, faiss.ScalarQuantizer.QT_fp16, flat.metric_type)
    if flat.ntotal:
        scan.add(flat.reconstruct_n(0, flat.ntotal))
    return scan
