"""int8 vs fp32 model weights on the real blog: ingest rate, query embedding, vectors and dev-set quality."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.common import Json, Row, fmt_ms, percentiles
from bench.ingest import RecordingEmbedder
from bench.query import cold_texts
from casebook.eval.questions import read_questions, run_system, summarise
from casebook.eval.systems import local_system
from index import DEFAULT_MODEL, Embedder, FolderStore, ModelRuntime
from index.embedder import export_onnx, quantize_onnx, resolve_model
from ingest.pipeline import run_ingest
from ingest.settings import IngestSettings

# The rule from issue 18: int8 becomes the default only if dev nDCG@10 drops by less than this.
MAX_NDCG_DROP = 0.005
TYPES = ("question", "keywords", "paraphrase", "factoid")


def run(site: Path, work: Path, fp32_index: Path, queries_file: Path, queries: list[Json],
        runtime: ModelRuntime) -> tuple[list[Row], Path, float]:
    """Build the real blog with int8 weights beside `fp32_index`, and compare the two; returns the
    rows, the int8 index and its bare query-embedding p50 (for the HTTP ratio)."""
    rows = [_quantized_file(runtime)]
    fp32 = Embedder(DEFAULT_MODEL, replace(runtime, precision="fp32"))
    int8 = Embedder(DEFAULT_MODEL, replace(runtime, precision="int8"))
    index_dir = work / "index-int8"
    shutil.rmtree(index_dir, ignore_errors=True)
    settings = IngestSettings.from_env(content_dir=site / "content", site_dir=site, index_dir=index_dir,
                                       embed_precision="int8")
    int8.encode(["warm up the model once, as a long-running service would"])
    recorder = RecordingEmbedder(int8)
    report = run_ingest(settings, embedder=recorder)
    rows.append(Row("int8", "[int8] full ingest (model loaded)",
                    f"{report.seconds:.1f} s: {report.passages / report.seconds:.1f} passages/s, "
                    f"{report.tokens / report.seconds:.0f} tokens/s (embed {report.embed_seconds:.1f} s)"))
    rows.append(_encode_rates(fp32, int8, recorder.texts))
    query_row, int8_p50 = _query_embedding(fp32, int8, queries)
    rows.append(query_row)
    rows.append(_cosine(fp32, int8, recorder.texts, queries))
    rows += _quality(fp32_index, index_dir, queries_file)
    return rows, index_dir, int8_p50


def _quantized_file(runtime: ModelRuntime) -> Row:
    """Size of the int8 file beside the fp32 export, and what quantizing it cost (0 when cached)."""
    exported = export_onnx(Path(resolve_model(DEFAULT_MODEL)), runtime.cache_dir)
    started = time.perf_counter()
    quantized = quantize_onnx(exported)
    seconds = time.perf_counter() - started
    return Row("int8", "[int8] model file (quantized once, cached beside the fp32 export)",
               f"{quantized.stat().st_size / 2**20:.0f} MiB vs {exported.stat().st_size / 2**20:.0f} MiB fp32; "
               + (f"quantized in {seconds:.1f} s" if seconds > 0.05 else "cached"))


def _encode_rates(fp32: Embedder, int8: Embedder, texts: list[str], batches: int = 24) -> Row:
    """Passages per second of the bare model, fp32 and int8 taking turns on the same batches of passages."""
    size = 64
    step = max(1, len(texts) // (batches * size))
    sample = texts[::step][: batches * size]
    seconds = {"fp32": 0.0, "int8": 0.0}
    for start in range(0, len(sample), size):
        batch = sample[start : start + size]
        order = (("fp32", fp32), ("int8", int8)) if start // size % 2 else (("int8", int8), ("fp32", fp32))
        for name, embedder in order:
            started = time.perf_counter()
            embedder.encode(batch, batch_size=size)
            seconds[name] += time.perf_counter() - started
    rate = {name: len(sample) / s for name, s in seconds.items()}
    return Row("int8", "[int8] ingest embedding rate vs fp32, same passages (batches taking turns)",
               f"{rate['int8']:.1f} vs {rate['fp32']:.1f} passages/s ({rate['int8'] / rate['fp32']:.2f}x, "
               f"n={len(sample)})")


def _query_embedding(fp32: Embedder, int8: Embedder, queries: list[Json]) -> tuple[Row, float]:
    """Bare query embedding p50, fp32 and int8 taking turns on every cold text."""
    times: dict[str, list[float]] = {"fp32": [], "int8": []}
    for i, text in enumerate(cold_texts(queries)):
        order = (("fp32", fp32), ("int8", int8)) if i % 2 else (("int8", int8), ("fp32", fp32))
        for name, embedder in order:
            started = time.perf_counter()
            embedder.encode([text])
            times[name].append(time.perf_counter() - started)
    p = {name: percentiles(t) for name, t in times.items()}
    return Row("int8", "[int8] bare query embedding vs fp32 (taking turns)",
               f"{fmt_ms(p['int8'])} vs {p['fp32']['p50']:.1f} ms p50 "
               f"({p['fp32']['p50'] / p['int8']['p50']:.2f}x faster)"), p["int8"]["p50"]


def _cosine(fp32: Embedder, int8: Embedder, texts: list[str], queries: list[Json]) -> Row:
    """How close int8 vectors are to fp32's for the same texts."""
    sample = texts[:: max(1, len(texts) // 1000)] + [q["query"] for q in queries]
    cosine = (fp32.encode(sample) * int8.encode(sample)).sum(axis=1)
    return Row("int8", "[int8] cosine to fp32, same text",
               f"min {cosine.min():.4f}, mean {cosine.mean():.4f}, p5 {np.percentile(cosine, 5):.4f} "
               f"(n={len(sample)}): not interchangeable, so an index records its precision")


def _quality(fp32_index: Path, int8_index: Path, queries_file: Path) -> list[Row]:
    """The dev questions against the fp32 and the int8 index, each queried at its own precision."""
    counts = [FolderStore(i).manifest().counts["passages"] for i in (fp32_index, int8_index)]
    questions = read_questions(queries_file, None)
    tables = {}
    for name, index_dir in (("fp32", fp32_index), ("int8", int8_index)):
        system = local_system(index_dir)
        if system is None:
            raise RuntimeError(f"{index_dir}: cannot be opened for the dev questions")
        tables[name] = summarise(run_system(system, questions))
    a, b = tables["fp32"]["all"], tables["int8"]["all"]
    drop = float(a["ndcg"] or 0) - float(b["ndcg"] or 0)
    per_type = ", ".join(f"{t} {tables['fp32'][t]['ndcg']:.3f} -> {tables['int8'][t]['ndcg']:.3f}"
                         for t in TYPES if t in tables["fp32"])
    others = ", ".join(f"{label} {a[key]:.3f} -> {b[key]:.3f}" for key, label in (
        ("recall", "R@10"), ("mrr", "MRR@10"), ("success", "S@1"), ("series", "Series@1"),
        ("answer_hit", "AnswerHit"), ("abstain", "Abstain")) if a.get(key) is not None and b.get(key) is not None)
    default = ModelRuntime().precision
    return [
        Row("int8", "[int8] dev nDCG@10 fp32 -> int8 (each index queried at its own precision)",
            f"{a['ndcg']:.4f} -> {b['ndcg']:.4f} (drop {drop:+.4f}; passages {counts[0]} vs {counts[1]})",
            f"drop < {MAX_NDCG_DROP} to be the default", drop < MAX_NDCG_DROP),
        Row("int8", "[int8]   nDCG@10 by question type", per_type),
        Row("int8", "[int8]   other dev columns", others),
        Row("int8", "default precision", f"{default}"
            + ("" if (drop < MAX_NDCG_DROP) == (default == "int8") else " (this run's figures disagree with it)")),
    ]
