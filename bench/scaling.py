"""Scaling: how ingest time, index size, memory and query latency grow at 10x and 100x the real blog.

10x: a synthetic blog (bench/synth.py) goes through the real `run_ingest`; only the model is replaced, by
real vectors with noise added, and the model's share is then added back from the rate measured on the
real blog in the same run. 100x: no ingest (about 100 M tokens is hours of model time on 2 cores); FAISS
and BM25 are built and queried directly over perturbed real vectors and the 10x passage texts.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import faiss
import numpy as np

from bench.common import Json, Row, dir_mb, percentiles
from bench.synth import write_site
from index import Embedder, FolderStore
from index.lexical import LexicalSearch
from index.vectors import build_vectors
from ingest.pipeline import run_ingest
from ingest.settings import IngestSettings

Item = TypeVar("Item")

NOISE = 0.5  # perturbed copies keep cosine ~0.9 with their source: clustered like real topics, never equal


class PerturbedEmbedder:
    """Stands in for the model at scale: a real passage vector plus noise, real tokenizer counts."""

    def __init__(self, real: Embedder, base: np.ndarray, seed: int = 3) -> None:
        self.real, self.base = real, base
        self.name, self.dim, self.max_tokens = real.name, real.dim, real.max_tokens
        self.rng = np.random.default_rng(seed)

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Noisy copies of randomly chosen real vectors, unit length."""
        return perturb(self.base, len(texts), self.rng)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """The real model's token counts (the pipeline splits passages by them)."""
        return self.real.count_tokens(texts)


def perturb(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors, each a random row of `base` plus Gaussian noise."""
    rows = base[rng.integers(0, len(base), n)]
    noisy = rows + rng.normal(0, NOISE / np.sqrt(base.shape[1]), rows.shape).astype(np.float32)
    return np.ascontiguousarray(noisy / np.linalg.norm(noisy, axis=1, keepdims=True), dtype=np.float32)


def rss() -> float:
    """This process's resident memory in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(content: Path, real_index: Path, work: Path, embedder: Embedder, queries: list[str], facts: Json,
        scales: list[int]) -> list[Row]:
    """Rows for 1x (the real index) and each scale."""
    version = FolderStore(real_index).open()
    base = version.vectors.all_vectors()
    qvec = embedder.encode(queries)
    model_rate = facts["model_tokens"] / facts["bare_seconds"] if facts.get("bare_seconds") else None
    rows = _search_rows("1x", version.vectors.index, base, qvec, version.lexical, queries)
    texts = [p.text for p in version.passages]
    for scale in scales:
        if scale <= 10:
            r, texts = _ingest_scale(scale, content, work, embedder, base, qvec, queries, facts, model_rate)
        else:
            r = _index_scale(scale, facts["passages"], base, qvec, queries, texts)
        rows += r
    return rows


def _ingest_scale(scale: int, content: Path, work: Path, embedder: Embedder, base: np.ndarray,
                  qvec: np.ndarray, queries: list[str], facts: Json,
                  model_rate: float | None) -> tuple[list[Row], list[str]]:
    site = work / f"synth-{scale}x"
    shutil.rmtree(site, ignore_errors=True)
    started = time.perf_counter()
    avg_bytes = int(facts.get("avg_bytes", 17000))
    write_site(content, site, facts["posts"] * scale, avg_bytes)
    generated = time.perf_counter() - started
    settings = IngestSettings.from_env(content_dir=site / "content", index_dir=site / "index")
    fake = PerturbedEmbedder(embedder, base)
    report = run_ingest(settings, embedder=fake)
    model_tokens = sum(embedder.count_tokens([p.text for p in FolderStore(settings.index_dir).open().passages]))
    model_seconds = model_tokens / model_rate if model_rate else float("nan")
    before = rss()
    store = FolderStore(settings.index_dir)
    version = store.open()
    loaded = rss() - before
    label = f"{scale}x"
    rows = [
        Row("scaling", f"[{label}] synthetic corpus", f"{report.posts} posts, {report.passages} passages, "
            f"{report.tokens} tokens (generated in {generated:.0f} s from content/)"),
        Row("scaling", f"[{label}] ingest without the model (measured)", f"{report.seconds:.1f} s ("
            + ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items()) + ")"),
        Row("scaling", f"[{label}] + model time at the measured rate (estimated)",
            f"{model_seconds:.0f} s -> full ingest ~{(report.seconds + model_seconds) / 60:.1f} min"),
        Row("scaling", f"[{label}] index on disk / memory to load",
            f"{dir_mb(store.path(version.manifest.version)):.0f} MiB / +{loaded:.0f} MiB RSS"),
    ]
    vectors = version.vectors.all_vectors()
    rows += _search_rows(label, version.vectors.index, vectors, qvec, version.lexical, queries)
    texts = [p.text for p in version.passages]
    shutil.rmtree(site / "content", ignore_errors=True)
    return rows, texts


def _index_scale(scale: int, real_passages: int, base: np.ndarray, qvec: np.ndarray, queries: list[str],
                 texts: list[str]) -> list[Row]:
    n = real_passages * scale
    label = f"{scale}x"
    rng = np.random.default_rng(scale)
    vectors = np.concatenate([perturb(base, min(100_000, n - i), rng) for i in range(0, n, 100_000)])
    started = time.perf_counter()
    flat = build_vectors(vectors, "flat")
    flat_build = time.perf_counter() - started
    # BM25 over a million passages takes minutes on a busy 2-core machine; above the cap it is built on
    # the first BM25_CAP passages and its build time and memory are scaled up linearly (said in the row).
    cap = min(n, int(os.environ.get("BENCH_BM25_CAP", "300000")))
    corpus = [texts[i % len(texts)] for i in range(cap)]
    before = rss()
    started = time.perf_counter()
    lexical = LexicalSearch.build(corpus)
    bm25_build = (time.perf_counter() - started) * n / cap
    bm25_mem = (rss() - before) * n / cap
    note = "" if cap == n else f" (measured on {cap} passages, scaled x{n / cap:.1f}; search p50 on those)"
    rows = [
        Row("scaling", f"[{label}] vectors only (no ingest; perturbed real vectors)",
            f"{n} passages: flat {n * base.shape[1] * 4 / 2**20:.0f} MiB built in {flat_build:.1f} s; "
            f"BM25 built in ~{bm25_build:.0f} s, ~+{bm25_mem:.0f} MiB RSS{note}"),
    ]
    rows += _search_rows(label, flat, vectors, qvec, lexical, queries)
    return rows


def _search_rows(label: str, flat: faiss.Index, vectors: np.ndarray, qvec: np.ndarray, lexical: LexicalSearch,
                 queries: list[str]) -> list[Row]:
    """Flat vs HNSW vs IVF: build time, p50 per query, recall@10 against the exact flat result; BM25 p50."""
    n = len(vectors)
    exact = flat.search(qvec, 10)[1]
    flat_ms = _per_query(lambda q: flat.search(q, 100), qvec)
    bm25_ms = percentiles(_timed_each(lambda q: lexical.search(q, 100), queries))["p50"]
    rows = [Row("scaling", f"[{label}] flat search p50 (100 candidates) / BM25 p50",
                f"{flat_ms:.2f} ms / {bm25_ms:.2f} ms over {n} passages")]
    budget_left = float(os.environ.get("BENCH_HNSW_MAX_SECONDS", "300"))
    if n * 0.0008 < budget_left:  # ~0.8 ms per vector to build HNSW on 2 busy cores
        started = time.perf_counter()
        hnsw = build_vectors(vectors, "hnsw")
        built = time.perf_counter() - started
        hnsw_ms = _per_query(lambda q: hnsw.search(q, 100), qvec)
        recall = _recall(hnsw.search(qvec, 10)[1], exact)
        rows.append(Row("scaling", f"[{label}] HNSW (M=32, efSearch=64): build / p50 / recall@10",
                        f"{built:.1f} s / {hnsw_ms:.2f} ms / {recall:.3f}"))
    else:
        rows.append(Row("scaling", f"[{label}] HNSW", f"skipped: build estimated over {budget_left:.0f} s"))
    nlist = max(16, int(np.sqrt(n)))  # the usual rule of thumb, sqrt(n) lists
    if n >= 40 * nlist:
        started = time.perf_counter()
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist,
                                 faiss.METRIC_INNER_PRODUCT)
        ivf.train(vectors[:: max(1, n // (40 * nlist))])
        ivf.add(vectors)
        ivf.nprobe = 16
        built = time.perf_counter() - started
        ivf_ms = _per_query(lambda q: ivf.search(q, 100), qvec)
        rows.append(Row("scaling", f"[{label}] IVF (nlist={nlist}, nprobe=16): build / p50 / recall@10",
                        f"{built:.1f} s / {ivf_ms:.2f} ms / {_recall(ivf.search(qvec, 10)[1], exact):.3f}"))
    return rows


def _per_query(search: Callable[[np.ndarray], object], qvec: np.ndarray) -> float:
    return percentiles(_timed_each(search, [q.reshape(1, -1) for q in qvec]))["p50"]


def _timed_each(fn: Callable[[Item], object], items: Sequence[Item]) -> list[float]:
    fn(items[0])
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - started)
    return out


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]))
