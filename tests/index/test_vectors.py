"""Dense search: the index shape `auto` picks by size, and the approximate index against an exact scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.vectors import APPROXIMATE_FROM, VectorSearch, build_vectors, choose_kind


def _unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors, as passages about a few topics are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    vectors = centres[rng.integers(0, 20, n)] + rng.normal(scale=0.6, size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_auto_scans_exactly_until_the_scan_gets_slow_then_builds_ivf_and_says_why():
    assert choose_kind("auto", APPROXIMATE_FROM - 1)[0] == "flat"
    kind, why = choose_kind("auto", APPROXIMATE_FROM)
    assert kind == "ivf" and f"{APPROXIMATE_FROM:,} passages" in why
    assert choose_kind("hnsw", 10) == ("hnsw", "hnsw: asked for (--index-kind / CASEBOOK_INDEX_KIND)")
    assert choose_kind("flat", 10**7)[0] == "flat"


def test_ivf_finds_nearly_what_the_exact_scan_finds_and_keeps_the_exact_vectors(tmp_path: Path):
    vectors, queries = _unit(4000), _unit(50, seed=1)
    VectorSearch(build_vectors(vectors, "ivf")).save(tmp_path / "v.faiss")
    ivf, flat = VectorSearch.load(tmp_path / "v.faiss"), VectorSearch(build_vectors(vectors, "flat"))
    found = [{h.passage_id for h in ivf.search(q, 10)} for q in queries]
    exact = [{h.passage_id for h in flat.search(q, 10)} for q in queries]
    assert np.mean([len(f & e) / 10 for f, e in zip(found, exact, strict=True)]) >= 0.95
    assert np.array_equal(ivf.all_vectors(), vectors)  # what the next ingest reuses


@pytest.mark.parametrize("kept", [30, 3000], ids=["narrow-filter-scanned-exactly", "broad-filter-more-lists"])
def test_filtered_ivf_search_returns_only_allowed_passages_best_first(kept: int):
    vectors = _unit(4000)
    ivf = VectorSearch(build_vectors(vectors, "ivf"))
    allowed = set(range(0, 4000, 4000 // kept))
    hits = ivf.search(vectors[0], 20, within=allowed)
    assert len(hits) == 20 and {h.passage_id for h in hits} <= allowed
    assert hits[0].passage_id == 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    if kept == 30:  # scanned exactly: the same hits as numpy's
        best = sorted(allowed, key=lambda i: -float(vectors[i] @ vectors[0]))[:20]
        assert [h.passage_id for h in hits] == best


def test_a_tiny_ivf_index_has_no_more_lists_than_vectors():
    vectors = _unit(3)
    assert [h.passage_id for h in VectorSearch(build_vectors(vectors, "ivf")).search(vectors[2], 5)][0] == 2
