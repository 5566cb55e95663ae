"""Over HTTP against `casebook serve`: start-up time, memory, and cold latency of search, ask and related."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bench.common import Row, Served, fmt_ms, percentiles, rss_mb
from bench.query import cold_texts


def startup_rows(served: Served, label: str) -> list[Row]:
    """Time from spawning `casebook serve` to /readyz 200, and resident memory once ready."""
    return [
        Row("startup", f"[{label}] `casebook serve` to /readyz ready", f"{served.ready_seconds:.1f} s"),
        Row("startup", f"[{label}] resident memory, ready, idle", f"{rss_mb(served.process.pid):.0f} MiB"),
    ]


def latency_rows(served: Served, queries: list[dict], label: str, embed_p50: float | None) -> list[Row]:
    """Sequential cold requests (each text asked once) to /api/search, then /api/ask and /api/related."""
    rows: list[Row] = []
    with httpx.Client(base_url=served.url, timeout=60) as client:
        paths = client.get("/openapi.json").json()["paths"]
        client.get("/api/search", params={"q": "warm up"})
        search = _timed(client, "/api/search", [{"q": t} for t in cold_texts(queries)])
        ratio = f"; p50 / bare embed p50 = {search['p50'] / embed_p50:.2f}" if embed_p50 else ""
        rows.append(Row("http", f"[{label}] GET /api/search, cold", fmt_ms(search) + ratio, "p50 < 15 ms",
                        search["p50"] < 15))
        rows.append(Row("http", f"[{label}] resident memory after the queries",
                        f"{rss_mb(served.process.pid):.0f} MiB"))
        if "/api/ask" in paths:
            asked = _timed(client, "/api/ask", [{"q": q["query"] + " (ask)"} for q in queries[:40]])
            rows.append(Row("http", f"[{label}] GET /api/ask, cold (extractive, no LLM)", fmt_ms(asked)))
        else:
            rows.append(Row("http", f"[{label}] GET /api/ask", "not served by this build; skipped"))
        if "/api/related" in paths:
            posts = sorted({p for q in queries for p in q.get("relevant", {})})[:40]
            related = _timed(client, "/api/related", [{"path": p} for p in posts], allow={404})
            rows.append(Row("http", f"[{label}] GET /api/related", fmt_ms(related)))
        else:
            rows.append(Row("http", f"[{label}] GET /api/related", "not served by this build; skipped"))
    return rows


def _timed(client: httpx.Client, path: str, params: list[dict], allow: set[int] | None = None) -> dict:
    seconds = []
    for p in params:
        started = time.perf_counter()
        response = client.get(path, params=p)
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200 and response.status_code not in (allow or set()):
            raise RuntimeError(f"{path} {p}: HTTP {response.status_code}: {response.text[:200]}")
    return percentiles(seconds)


def index_size_row(index_dir: Path) -> Row:
    """Size of the served version's folder."""
    from bench.common import dir_mb
    from index import current_version

    return Row("startup", "index on disk (served version)",
               f"{dir_mb(index_dir / 'versions' / (current_version(index_dir) or '')):.1f} MiB")
