"""The author tools on the real blog: related posts, the cross-link report, and what the gap log costs requests."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from bench.common import Json, Row, fmt_ms, percentiles
from index import FolderStore
from service.authors.crosslinks import crosslinks
from service.authors.gap_log import read_unanswered
from service.authors.related import PassageSpace, related_posts
from service.http.app import create_app
from service.search.live import Live
from service.settings import ServiceSettings


def run(index_dir: Path, queries: list[Json], work: Path) -> list[Row]:
    """Related posts per post, crosslinks end to end, and /api/search + /api/ask with the gap log on and off."""
    return [*_related(index_dir), *_gap_log(index_dir, queries, work)]


def _related(index_dir: Path) -> list[Row]:
    started = time.perf_counter()
    live = Live(FolderStore(index_dir).open())
    space = PassageSpace(live)
    built = time.perf_counter() - started
    per_post = []
    for path in space.paths:
        t = time.perf_counter()
        related_posts(live, space, path, 10)
        per_post.append(time.perf_counter() - t)
    started = time.perf_counter()
    report = crosslinks(live)
    whole = time.perf_counter() - started
    return [
        Row("authors", "related: per-version set-up (PassageSpace)", f"{built * 1000:.0f} ms"),
        Row("authors", "related: one post, p50 / p95 / p99", fmt_ms(percentiles(per_post))),
        Row("authors", "crosslinks: whole report (set-up included)",
            f"{whole:.1f} s for {len(space.paths)} posts ({len(report.posts)} with suggestions)",
            "within seconds", whole < 30),
    ]


def _gap_log(index_dir: Path, queries: list[Json], work: Path) -> list[Row]:
    """The same questions, asked as the page asks them, to two apps: gap log off and on, alternating."""
    log = work / "gaps-bench.sqlite"
    log.unlink(missing_ok=True)
    timings: dict[str, list[float]] = {"off": [], "on": []}
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, gap_log=None))) as off, \
            TestClient(create_app(ServiceSettings(index_dir=index_dir, gap_log=log))) as on:
        for q in queries:
            for name, client in (("off", off), ("on", on)):
                started = time.perf_counter()
                client.get("/api/search", params={"q": q["query"]}).raise_for_status()
                client.get("/api/ask", params={"q": q["query"]}).raise_for_status()
                timings[name].append(time.perf_counter() - started)
    off_p, on_p = percentiles(timings["off"]), percentiles(timings["on"])
    written = len(read_unanswered(log))
    return [
        Row("authors", "/api/search + /api/ask, gap log off", fmt_ms(off_p)),
        Row("authors", "/api/search + /api/ask, gap log on", fmt_ms(on_p),
            "p50 within 5% of off", on_p["p50"] <= off_p["p50"] * 1.05),
        Row("authors", "gap log rows written", f"{written} of {len(queries)} questions"),
    ]
