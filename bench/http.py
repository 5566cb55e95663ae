"""Over HTTP against `casebook serve`: start-up time, memory, and cold latency of search, ask and related."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.common import Json, Row, Served, fmt_ms, percentiles, rss_mb
from bench.query import cold_texts


def startup_rows(served: Served, label: str) -> list[Row]:
    """Time from spawning `casebook serve` to /readyz 200, and resident memory once ready."""
    return [
        Row("startup", f"[{label}] `casebook serve` to /readyz ready", f"{served.ready_seconds:.1f} s"),
        Row("startup", f"[{label}] resident memory, ready, idle", f"{rss_mb(served.process.pid):.0f} MiB"),
    ]


# Issue 18: cold /api/search over HTTP on the real blog, with the default model runtime.
SEARCH_P50_MS = 8.0


def latency_rows(served: Served, queries: list[Json], label: str, embed_p50: float | None,
                 default: bool) -> list[Row]:
    """Sequential cold requests (each text asked once) to /api/search, then /api/ask and /api/related;
    `default` says the server runs the default model runtime, which the p50 target is for."""
    client = _client(served)
    try:
        paths = json.loads(_get(client, "/openapi.json", {})[1])["paths"]
        rows = _search_rows(client, queries, label, embed_p50, default)
        rows.append(Row("http", f"[{label}] resident memory after the queries",
                        f"{rss_mb(served.process.pid):.0f} MiB"))
        if "/api/ask" in paths:
            asked = _timed(client, "/api/ask", [{"q": q["query"] + " (ask)"} for q in queries[:40]])
            rows.append(Row("http", f"[{label}] GET /api/ask, cold (extractive, no LLM)", fmt_ms(asked),
                            "p50 <= 40 ms", asked["p50"] <= 40))
        else:
            rows.append(Row("http", f"[{label}] GET /api/ask", "not served by this build; skipped"))
        if "/api/related" in paths:
            posts = sorted({p for q in queries for p in q.get("relevant", {})})[:40]
            related = _timed(client, "/api/related", [{"path": p} for p in posts], allow={404})
            rows.append(Row("http", f"[{label}] GET /api/related", fmt_ms(related)))
        else:
            rows.append(Row("http", f"[{label}] GET /api/related", "not served by this build; skipped"))
    finally:
        client.close()
    return rows


def search_rows(served: Served, queries: list[Json], label: str, embed_p50: float | None,
                default: bool) -> list[Row]:
    """Sequential cold requests to /api/search only."""
    client = _client(served)
    try:
        return _search_rows(client, queries, label, embed_p50, default)
    finally:
        client.close()


def _search_rows(client: http.client.HTTPConnection, queries: list[Json], label: str,
                 embed_p50: float | None, default: bool) -> list[Row]:
    _get(client, "/api/search", {"q": "warm up"})
    search = _timed(client, "/api/search", [{"q": t} for t in cold_texts(queries)])
    rows = [Row("http", f"[{label}] GET /api/search, cold", fmt_ms(search),
                f"p50 <= {SEARCH_P50_MS:g} ms" if default else "", search["p50"] <= SEARCH_P50_MS if default else None)]
    if embed_p50:
        ratio = search["p50"] / embed_p50
        rows.append(Row("http", f"[{label}] /api/search p50 / bare embed p50",
                        f"{ratio:.2f} (HTTP and pipeline {search['p50'] - embed_p50:.1f} ms)", "<= 1.5",
                        bool(ratio <= 1.5)))
    return rows


def _client(served: Served) -> http.client.HTTPConnection:
    # The standard library's client on one kept-alive connection: httpx spends ~1 ms of Python per
    # request on this machine, which is the client's time, not the service's.
    address = urlsplit(served.url)
    return http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)


def _get(client: http.client.HTTPConnection, path: str, params: Json) -> tuple[int, bytes]:
    client.request("GET", f"{path}?{urlencode(params)}" if params else path)
    response = client.getresponse()
    return response.status, response.read()


def _timed(client: http.client.HTTPConnection, path: str, params: list[Json],
           allow: set[int] | None = None) -> Json:
    seconds = []
    for p in params:
        started = time.perf_counter()
        status, body = _get(client, path, p)
        seconds.append(time.perf_counter() - started)
        if status != 200 and status not in (allow or set()):
            raise RuntimeError(f"{path} {p}: HTTP {status}: {body[:200]!r}")
    return percentiles(seconds)


def index_size_row(index_dir: Path) -> Row:
    """Size of the served version's folder."""
    from bench.common import dir_mb
    from index import FolderStore

    store = FolderStore(index_dir)
    return Row("startup", "index on disk (served version)", f"{dir_mb(store.path(store.published() or '')):.1f} MiB")
