"""In-process figures: search latency vs bare query embedding, batching, and torch vs ONNX fidelity."""

from __future__ import annotations

import functools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.common import Json, Row, fmt_ms, percentiles
from casebook.eval.metrics import ndcg as ndcg_at_10
from index import Embedder, FolderStore, ModelRuntime
from service.search.live import Filters, Live
from service.search.results import run_search


def cold_texts(queries: list[Json]) -> list[str]:
    """Each dev question and its lower-cased twin: every text is new to the caches, so every call is cold."""
    texts = [q["query"] for q in queries]
    return texts + [t.lower() for t in texts if t.lower() != t]


def latency(index_dir: Path, queries: list[Json], runtime: ModelRuntime,
            typos: list[Json] | None = None) -> tuple[list[Row], Json]:
    """p50/p95/p99 of the full search and of bare query embedding, interleaved in the same loop.

    With `typos` (dev_typos.jsonl), also what spelling correction costs on misspelt questions.
    """
    version = FolderStore(index_dir).open()
    embedder = Embedder(version.manifest.model, runtime)
    backend = runtime.backend
    live = Live(version, lambda: embedder)  # cache size 0: nothing is ever cached
    for text in ("warm up", "warm up the model and the BM25 tokenizer"):
        run_search(live, text, Filters(), 10)
    texts = cold_texts(queries)
    embed, search = [], []
    for text in texts:
        started = time.perf_counter()
        embedder.encode([text])
        embed.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_search(live, text, Filters(), 10)
        search.append(time.perf_counter() - started)
    e, s = percentiles(embed), percentiles(search)
    ratio = s["p50"] / e["p50"]
    rows = [
        Row("query", f"[{backend}] bare query embedding", fmt_ms(e)),
        Row("query", f"[{backend}] search in process, cold", fmt_ms(s)),
        Row("query", f"[{backend}] search p50 / embed p50",
            f"{ratio:.2f} (rest of pipeline {s['p50'] - e['p50']:.1f} ms)", "<= 1.5", bool(ratio <= 1.5)),
    ]
    rows.append(_batching(embedder, texts, backend))
    rows += _spelling(live, texts, [q["query"] for q in typos or []], backend)
    return rows, {"embed": e, "search": s}


def _spelling(live: Live, texts: list[str], typos: list[str], backend: str) -> list[Row]:
    """What correcting the spelling adds to a search: a look-up per known word, an edit-distance scan per unknown."""
    rows = []
    for label, batch in (("dev questions", texts), ("dev questions with one typo", typos)):
        if not batch:
            continue
        took = []
        for text in batch:
            started = time.perf_counter()
            live.speller.correct(text)
            took.append(time.perf_counter() - started)
        p = percentiles(took)
        target, ok = ("p50 < 0.2 ms", p["p50"] < 0.2) if batch is texts else ("", None)
        rows.append(Row("query", f"[{backend}] spelling correction, {label}", fmt_ms(p), target, ok))
    return rows


def _batching(embedder: Embedder, texts: list[str], backend: str) -> Row:
    """What coalescing concurrent queries could save: 8 queries one by one vs in one batch."""
    one, batch = [], []
    for start in range(0, min(len(texts), 80), 8):
        group = texts[start : start + 8]
        started = time.perf_counter()
        for t in group:
            embedder.encode([t])
        one.append(time.perf_counter() - started)
        started = time.perf_counter()
        embedder.encode(group)
        batch.append(time.perf_counter() - started)
    a, b = float(np.median(one)) * 1000, float(np.median(batch)) * 1000
    return Row("query", f"[{backend}] 8 queries: one by one vs one batch",
               f"{a:.1f} ms vs {b:.1f} ms ({a / b:.1f}x)")


def fidelity(index_dir: Path, queries: list[Json], passages: list[str],
             runtime: ModelRuntime) -> tuple[list[Row], bool]:
    """Are ONNX vectors and rankings the same as torch's? Cosine on passages, dev-set top-10 and nDCG@10."""
    version = FolderStore(index_dir).open()
    model = version.manifest.model
    torch_e = Embedder(model, replace(runtime, backend="torch"))
    onnx_e = Embedder(model, replace(runtime, backend="onnx"))
    sample = passages[:: max(1, len(passages) // 1000)] + [q["query"] for q in queries]
    cos = (torch_e.encode(sample) * onnx_e.encode(sample)).sum(axis=1)
    ranked: dict[str, list[list[str]]] = {}
    for name, embedder in (("torch", torch_e), ("onnx", onnx_e)):
        live = Live(version, functools.partial(lambda e: e, embedder))
        ranked[name] = [[p.path for p in run_search(live, q["query"], Filters(), 10).posts] for q in queries]
    same_top1 = np.mean([a[:1] == b[:1] for a, b in zip(ranked["torch"], ranked["onnx"], strict=True)])
    overlap = np.mean([len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(ranked["torch"], ranked["onnx"],
                                                                             strict=True)])
    identical = np.mean([a == b for a, b in zip(ranked["torch"], ranked["onnx"], strict=True)])
    ndcg = {name: np.mean([ndcg_at_10(r, q["relevant"]) for r, q in zip(lists, queries, strict=True)
                           if q.get("relevant")]) for name, lists in ranked.items()}
    within_noise = bool(cos.min() > 0.999 and abs(ndcg["torch"] - ndcg["onnx"]) < 0.005)
    return [
        Row("backend", "cosine torch vs onnx, same text", f"min {cos.min():.6f}, mean {cos.mean():.6f} "
            f"(n={len(sample)})", "> 0.999", bool(cos.min() > 0.999)),
        Row("backend", "dev top-10 posts: identical lists / overlap / same #1",
            f"{identical:.0%} / {overlap:.1%} / {same_top1:.0%}"),
        Row("backend", "dev nDCG@10 torch vs onnx", f"{ndcg['torch']:.4f} vs {ndcg['onnx']:.4f}",
            "within noise (< 0.005)", bool(abs(ndcg["torch"] - ndcg["onnx"]) < 0.005)),
    ], within_noise

