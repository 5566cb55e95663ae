"""Dense search over passage vectors with FAISS; the one place that decides the index shape."""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from index.records import Hit
from index.scope import PassageWithin, passage_ids, scans_exactly

IndexKind = Literal["flat", "hnsw", "ivf"]
IndexChoice = Literal["auto", "flat", "hnsw", "ivf"]  # what ingest is asked for; `auto` picks by size

# An exact scan of 16-bit vectors costs ~40 ms per million passages on one core (bench: store and scaling
# sections); from here on it passes ~2 ms, as much as the rest of a query's pipeline, and `auto` builds IVF.
APPROXIMATE_FROM = 50_000
# IVF: 2 * sqrt(n) lists, and a query scans the 48 lists whose centroids are nearest: 2.5 % of a million
# passages (~3 ms on one busy core), 8 % of 100,000. Recall@10 against the exact scan: 0.99 at 100x the real
# blog (bench: store section); 4 * sqrt(n) lists scan half as much for 0.986 but take twice as long to build.
IVF_LISTS_PER_ROOT = 2
IVF_PROBES = 48
IVF_TRAIN_PER_LIST = 40  # k-means sample: FAISS warns below 39 points a centroid
IVF_TRAIN_ITERATIONS = 10


def choose_kind(asked: IndexChoice, count: int) -> tuple[IndexKind, str]:
    """The index shape for `count` passages, and why: what the ingest writes in the manifest."""
    if asked != "auto":
        return asked, f"{asked}: asked for (--index-kind / CASEBOOK_INDEX_KIND)"
    if count < APPROXIMATE_FROM:
        return "flat", (f"flat: auto, {count:,} passages; an exact scan costs under ~2 ms below "
                        f"{APPROXIMATE_FROM:,}")
    return "ivf", (f"ivf: auto, {count:,} passages; an exact scan costs over ~2 ms from {APPROXIMATE_FROM:,}, "
                   f"IVF with {ivf_lists(count)} lists scans {IVF_PROBES} of them")


def ivf_lists(count: int) -> int:
    """How many inverted lists an IVF index over `count` vectors has."""
    return max(1, min(count, int(IVF_LISTS_PER_ROOT * math.sqrt(count))))


def build_vectors(vectors: np.ndarray, kind: IndexKind = "flat") -> faiss.Index:
    """Build the FAISS index for unit vectors, where inner product equals cosine similarity."""
    dim = vectors.shape[1]
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index: faiss.Index
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    elif kind == "ivf" and len(vectors):
        lists = ivf_lists(len(vectors))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = IVF_TRAIN_ITERATIONS
        index.cp.min_points_per_centroid = 1  # a small sample is enough; the default warns about it
        index.train(vectors[:: max(1, len(vectors) // (IVF_TRAIN_PER_LIST * lists))])
        index.nprobe = min(lists, IVF_PROBES)
        index.make_direct_map()  # reconstruct by id: ingest reuses vectors, filters scan a few exactly
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


class VectorSearch:
    """A loaded FAISS index: nearest passages to a query vector, optionally within a subset."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index  # exact vectors: what is saved, and what ingest reuses
        self._ivf = faiss.try_extract_index_ivf(index)
        if self._ivf is not None:
            self._ivf.nprobe = min(self._ivf.nlist, IVF_PROBES)
            if self._ivf.direct_map.no():
                self._ivf.make_direct_map()

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
        params: faiss.SearchParameters | None = None
        if allowed is not None:
            ids = np.fromiter(allowed, dtype=np.int64)
            if self._ivf is not None:
                if scans_exactly(len(ids), self.count):
                    return self._exact(query[0], np.sort(ids), k)
                # Scan more lists the fewer passages pass, so about as many candidates pass as unfiltered.
                probes = min(self._ivf.nlist, IVF_PROBES * math.ceil(self.count / len(ids)))
                params = faiss.SearchParametersIVF(sel=faiss.IDSelectorBatch(ids), nprobe=probes)  # type: ignore[call-arg]
            else:
                params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))  # type: ignore[call-arg]  # stubs lack `sel`
        scores, found = self._scan.search(query, min(k, self.count), params=params)
        return [Hit(i, s) for i, s in zip(found[0].tolist(), scores[0].tolist(), strict=True) if i >= 0]

    def _exact(self, query: np.ndarray, ids: np.ndarray, k: int) -> list[Hit]:
        """The k of `ids` (ascending) closest to the query, scanned exactly; equal scores go to the lower id."""
        scores = self.index.reconstruct_batch(ids) @ query
        top = np.argsort(-scores, kind="stable")[:k]
        return [Hit(i, s) for i, s in zip(ids[top].tolist(), scores[top].tolist(), strict=True)]

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
