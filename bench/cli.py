"""`python -m bench`: run every benchmark on the real blog and print one table (see bench/README.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import cast, get_args

from bench import http, load, query
from bench.common import ROOT, Json, Row, Served, load_average, read_queries, serve
from index import DEFAULT_MODEL, Embedder, FolderStore, ModelRuntime
from index.embedder import Backend
from index.settings import SharedSettings

MIXES = (("cold mix (every query new)", 0.0), ("search-box mix (80% repeats)", 0.8))
SECTIONS = ("ingest", "built", "query", "backend", "int8", "http", "load", "throughput", "scaling", "authors",
            "store", "abuse")


def build_parser() -> argparse.ArgumentParser:
    """Flags of `python -m bench`."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--site", type=Path, default=ROOT.parent / "shared" / "site", help="Hugo site to measure")
    p.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "eval" / "dev.jsonl",
                   help="judged dev questions (JSONL)")
    p.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="scratch folder (git-ignored)")
    p.add_argument("--index", type=Path, help="measure this index instead of building one (skips ingest)")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"comma-separated sections of {', '.join(SECTIONS)}")
    p.add_argument("--backends", default="onnx,torch",
                   help="embedding backends to compare; the first (default: onnx, as served) builds the indexes")
    p.add_argument("--encode-sample", type=float, default=0.25,
                   help="share of passages the bare-encode baseline re-embeds (1 = all; scaled by tokens)")
    p.add_argument("--load-seconds", type=int, default=10, help="duration of each wrk run")
    p.add_argument("--connections", type=int, default=8, help="wrk connections")
    p.add_argument("--workers", default="1,2", help="uvicorn worker counts to load-test")
    p.add_argument("--scales", default="10,100", help="synthetic corpus sizes, in multiples of the real blog")
    p.add_argument("--json", type=Path, metavar="FILE",
                   help="also write the store section's table as JSON: one object per store and scale")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections in order; print the table and write it to <work>/results.{json,txt}."""
    args = build_parser().parse_args(argv)
    if not (args.site / "content").is_dir() or not args.queries.is_file():
        print(f"bench: {args.site}/content or {args.queries} is not here; skipping (needs ../shared)")
        return 0
    only = set(args.only.split(","))
    # In the order given: the first builds the indexes (onnx by default, as served).
    backends: list[Backend] = [cast(Backend, b) for b in args.backends.split(",") if b in get_args(Backend)]
    runtime = SharedSettings.from_env().runtime
    args.work.mkdir(parents=True, exist_ok=True)
    queries = read_queries(args.queries)
    started = time.perf_counter()
    rows = Results(args.work / "partial.txt")
    backend_label = f"ingest and scaling with {backends[0]}; Casebook's default is {ModelRuntime().backend}"
    rows.extend([
        Row("machine", "load average at start", load_average()),
        Row("machine", "embedding backend", backend_label),
    ])
    facts: Json = {"avg_bytes": _avg_bytes(args.site / "content")}
    embedder = Embedder(DEFAULT_MODEL, replace(runtime, backend=backends[0]))
    index_dir = args.index
    if index_dir is None and "ingest" in only:
        from bench import ingest

        _say("ingest: full build of the real blog, then the bare-encode baseline")
        r, index_dir, more = ingest.run(args.site, args.work, embedder, args.encode_sample)
        rows.extend(r)
        facts.update(more)
        rows.append(Row("machine", "load average after ingest", load_average()))
    if "built" in only:
        from bench import built

        _say("built: the real blog built by hugo, ingested from its HTML and from its Markdown")
        rows.extend(built.run(args.site, args.work, embedder)[0])
    index_dir = index_dir or ROOT / "var" / "real-index"
    embed_p50: dict[str, float] = {}
    if "query" in only:
        for backend in backends:
            _say(f"query: in-process latency [{backend}]")
            typos = args.queries.with_name("dev_typos.jsonl")
            r, stats = query.latency(index_dir, queries, replace(runtime, backend=backend),
                                     read_queries(typos) if typos.is_file() else None)
            rows.extend(r)
            embed_p50[backend] = stats["embed"]["p50"]
    if "backend" in only and set(backends) >= {"torch", "onnx"}:
        _say("backend: torch vs onnx vectors and dev-set rankings")
        r, _ = query.fidelity(index_dir, queries, facts.get("texts") or _passage_texts(index_dir), runtime)
        rows.extend(r)
    int8: tuple[Path, float] | None = None
    if "int8" in only:
        from bench import precision

        _say("int8: the real blog built and queried with int8 weights, against fp32")
        r, int8_dir, int8_p50 = precision.run(args.site, args.work, index_dir, args.queries, queries, runtime)
        rows.extend(r)
        int8 = (int8_dir, int8_p50)
    if "http" in only or "load" in only:
        _served(args, index_dir, queries, backends, embed_p50, only, rows)
    if "throughput" in only:
        _throughput(args, index_dir, queries, rows)
    if "http" in only and int8 is not None:
        _say("http: latency [onnx int8]")
        env = {"CASEBOOK_MODEL_CACHE": str(ROOT / "var" / "models")}
        with serve(int8[0], args.work / "serve.log", 1, env) as served:
            rows.extend(http.search_rows(served, queries, "onnx int8", int8[1], default=False))
    if "scaling" in only:
        from bench import scaling

        _say("scaling: synthetic 10x / 100x")
        if "bare_seconds" not in facts:
            facts.update(_model_rate(embedder, index_dir))
        rows.extend(scaling.run(ROOT / "content", index_dir, args.work, embedder, [q["query"] for q in queries],
                                    facts, [int(s) for s in args.scales.split(",") if s]))
        rows.append(_crossover(rows))
    if "authors" in only:
        from bench import authors

        _say("authors: related posts, crosslinks, the gap log's cost to requests")
        rows += authors.run(index_dir, queries, args.work)
    if "store" in only:
        from bench import store

        _say("store: the folder and PostgreSQL stores at 1x and the synthetic scales")
        figures = store.run(args.site, index_dir, args.work, embedder, queries,
                            [int(s) for s in args.scales.split(",") if s], facts["avg_bytes"], rows)
        if args.json:
            args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n", encoding="utf-8")
    if "abuse" in only:
        from bench import abuse

        _say("abuse: a hostile client against the production profile over HTTP")
        rows += abuse.run(index_dir, queries, args.work)
    rows.append(Row("machine", "load average at end", load_average()))
    rows.append(Row("machine", "bench wall time", f"{(time.perf_counter() - started) / 60:.1f} min"))
    table = render(rows)
    print(table)
    (args.work / "results.txt").write_text(table + "\n", encoding="utf-8")
    results = json.dumps([asdict(r) for r in rows], indent=2, default=bool)
    (args.work / "results.json").write_text(results, encoding="utf-8")
    return 0


class Results(list[Row]):
    """The rows so far, rewritten to a file as they come, so an interrupted run still shows its figures."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def append(self, row: Row) -> None:
        """Add one row and save the table so far."""
        self.extend([row])

    def extend(self, rows: Iterable[Row]) -> None:
        """Add rows and save the table so far."""
        super().extend(rows)
        self.path.write_text(render(self) + "\n", encoding="utf-8")


def _served(args: argparse.Namespace, index_dir: Path, queries: list[Json], backends: Sequence[Backend],
            embed_p50: dict[str, float], only: set[str], rows: Results) -> None:
    rows.append(http.index_size_row(index_dir))
    for backend in backends:
        env = {"CASEBOOK_EMBED_BACKEND": backend, "CASEBOOK_MODEL_CACHE": str(ROOT / "var" / "models")}
        if "http" in only:
            _say(f"http: start-up and latency [{backend}]")
            with serve(index_dir, args.work / "serve.log", 1, env) as served:
                rows.extend(http.startup_rows(served, f"{backend}, 1 worker"))
                rows.extend(http.latency_rows(served, queries, backend, embed_p50.get(backend),
                                              default=backend == ModelRuntime().backend))
        if "load" not in only:
            continue
        if not load.have_wrk():
            rows.append(Row("load", "wrk", "not installed (apt-get install wrk); skipped"))
            break
        words = _words(ROOT / "content")
        for workers in [int(w) for w in args.workers.split(",")]:
            # One torch/ORT thread per worker when several share the 2 cores, so they do not thrash.
            wenv = {**env, "CASEBOOK_EMBED_THREADS": "1"} if workers > 1 else env
            label = f"{backend}, {workers} worker{'s' if workers > 1 else ''}"
            _say(f"load: wrk [{label}]")
            with serve(index_dir, args.work / "serve.log", workers, wenv) as served:
                rows.append(Row("startup", f"[{label}] resident memory, all workers",
                                f"{_rss(served):.0f} MiB"))
                for mix, repeat in MIXES:
                    texts = load.query_mix(queries, words, 20_000, repeat)
                    result = load.run_wrk(served, texts, args.load_seconds, args.connections, args.work)
                    rows.append(load.rows_for(label, mix, result, args.load_seconds, args.connections))


def _throughput(args: argparse.Namespace, index_dir: Path, queries: list[Json], rows: Results) -> None:
    """Requests per second that the production profile serves on this machine at p95 <= 50 ms, mixed requests."""
    if not load.have_wrk():
        rows.append(Row("throughput", "wrk", "not installed (apt-get install wrk); skipped"))
        return
    workers = 2
    _say(f"throughput: production profile, {workers} workers, mixed search/ask/related")
    # One client address sends everything here, so the per-client rate limit is off; the gap log is on.
    env = {"CASEBOOK_PROFILE": "production", "CASEBOOK_EMBED_THREADS": "1", "CASEBOOK_RATE_LIMIT": "0",
           "CASEBOOK_ACCESS_LOG": "1", "CASEBOOK_GAP_LOG": str(args.work / "gaps.sqlite"),
           "CASEBOOK_MODEL_CACHE": str(ROOT / "var" / "models")}
    posts = sorted({p for q in queries for p in q.get("relevant", {})})
    paths = load.mixed_paths(queries, _words(ROOT / "content"), posts, 20_000)
    with serve(index_dir, args.work / "serve.log", workers, env) as served:
        runs, best = load.throughput(served, paths, args.load_seconds, args.work)
    mix = ", ".join(f"{share:.0%} {kind}" for kind, share in load.MIX)
    for r in runs:
        rows.append(Row("throughput", f"[production, {workers} workers] {r['connections']} connections, {mix}",
                        f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, {r['errors']} errors; "
                        f"server {r['server_cores']:.2f} cores ({r['server_cores'] * 1000 / max(r['rps'], 1):.1f} ms "
                        f"CPU a request), wrk {r['wrk_cores']:.2f} cores"))
    if best is None:
        rows.append(Row("throughput", f"[production, {workers} workers] at p95 <= {load.THROUGHPUT_P95_MS:g} ms",
                        "not reached even with one connection", "reported", False))
        return
    limit = ("CPU: the server and wrk use the 2 cores" if best["server_cores"] + best["wrk_cores"] > 1.8
             else "latency, not CPU: the cores are not full")
    rows.append(Row("throughput", f"[production, {workers} workers] requests/s at p95 <= {load.THROUGHPUT_P95_MS:g} ms",
                    f"{best['rps']:.0f} req/s with {best['connections']} connections (p95 {best['p95']:.1f} ms); "
                    f"limited by {limit}", "reported", True))


def _rss(served: Served) -> float:
    from bench.common import rss_mb

    return rss_mb(served.process.pid)


def _words(content: Path) -> list[str]:
    words = {w.strip(".,:;()`*\"'").lower() for p in content.rglob("*.md") for w in p.read_text().split()}
    return sorted(w for w in words if w.isalpha() and len(w) > 3)


def _avg_bytes(content: Path) -> int:
    sizes = [p.stat().st_size for p in content.rglob("*.md")]
    return int(sum(sizes) / max(1, len(sizes)))


def _passage_texts(index_dir: Path) -> list[str]:
    return [p.text for p in FolderStore(index_dir).open().passages]


def _model_rate(embedder: Embedder, index_dir: Path) -> Json:
    """Without an ingest run: posts, passages and the model's tokens/s on a sample of the index's passages."""
    version = FolderStore(index_dir).open()
    texts = [p.text for p in version.passages][::20]
    started = time.perf_counter()
    embedder.encode(texts)
    seconds = time.perf_counter() - started
    return {"posts": len(version.posts), "passages": len(version.passages),
            "model_tokens": sum(embedder.count_tokens(texts)), "bare_seconds": seconds}


def _crossover(rows: list[Row]) -> Row:
    """Where flat search stops being the right choice, from the measured flat p50s."""
    import re

    points = []
    for r in rows:
        m = re.match(r"([\d.]+) ms / [\d.]+ ms over (\d+) passages", r.value)
        if r.metric.endswith("flat search p50 (100 candidates) / BM25 p50") and m:
            points.append((int(m.group(2)), float(m.group(1))))
    if len(points) < 2:
        return Row("scaling", "flat -> HNSW crossover", "not enough scales measured")
    n, ms = max(points)
    per_million = ms / n * 1e6
    limit = int(2.0 / per_million * 1e6)
    return Row("scaling", "flat -> HNSW crossover",
               f"flat costs ~{per_million:.0f} ms per million passages; it passes 2 ms (a quarter of a "
               f"query's model time) near {limit:,} passages: switch there with "
               "`casebook ingest --index-kind hnsw`")


def render(rows: list[Row]) -> str:
    """The rows as one aligned text table."""
    head = ("section", "metric", "value", "target", "ok")
    cells = [(r.section, r.metric, r.value, r.target, "" if r.ok is None else ("yes" if r.ok else "NO"))
             for r in rows]
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(5)]
    widths[2] = min(widths[2], 110)
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip() for cell in cells]
    return "\n".join(out)


def _say(text: str) -> None:
    print(f"bench: {text} (load {load_average()})", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
