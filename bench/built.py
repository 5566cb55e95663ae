"""Built-HTML ingest against Markdown ingest on the real blog: Hugo 0.111 builds it with the test theme,
then both readers build an index from scratch with the same model, one after the other."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.common import Row
from bench.hugo import build_with_test_theme
from index import Embedder
from ingest.built import read_built_site
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings

TARGET = 1.1  # the HTML path may take at most 10% longer than the Markdown path


def build_site(site: Path, work: Path) -> Path:
    """The real blog built by hugo with the minimal test theme, in a fresh `work` folder."""
    shutil.rmtree(work, ignore_errors=True)
    return build_with_test_theme(site / "content", site / "hugo.toml", work)


def run(site: Path, work: Path, embedder: Embedder) -> tuple[list[Row], Path | None]:
    """Rows comparing the two readers' full ingests; the built folder, for the quality eval."""
    if shutil.which("hugo") is None:
        return [Row("built", "built HTML vs Markdown", "skipped: hugo is not installed")], None
    started = time.perf_counter()
    public = build_site(site, work / "built-site")
    hugo_seconds = time.perf_counter() - started
    embedder.encode(["warm up the model once, as a long-running service would"])
    markdown = _ingest(IngestSettings(content_dir=site / "content", site_dir=site, index_dir=work / "md-index"),
                       embedder)
    html = _ingest(IngestSettings(built_dir=public, index_dir=work / "html-index"), embedder)
    started = time.perf_counter()
    built = read_built_site(public)
    read_seconds = time.perf_counter() - started
    ratio = html.seconds / markdown.seconds
    pages = len(built.posts) + len(built.not_articles)
    return [
        Row("built", "hugo build (minimal theme)",
            f"{hugo_seconds:.1f} s, {pages} pages: {len(built.posts)} articles, {len(built.not_articles)} left out"),
        Row("built", "Markdown ingest (full)", _describe(markdown)),
        Row("built", "built-HTML ingest (full)", _describe(html)),
        Row("built", "  reading the built pages alone",
            f"{read_seconds:.1f} s ({read_seconds / pages * 1000:.1f} ms a page)"),
        Row("built", "ratio HTML / Markdown ingest time", f"{ratio:.2f}", f"<= {TARGET}", ratio <= TARGET),
    ], public


def _ingest(settings: IngestSettings, embedder: Embedder) -> IngestReport:
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    return run_ingest(settings, embedder=embedder)


def _describe(report: IngestReport) -> str:
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    return (f"{report.seconds:.1f} s: {report.posts} posts, {report.passages} passages ({stages}, "
            f"embed {report.embed_seconds:.1f} s)")
