"""Ingest figures: full build of the real blog vs bare model.encode, one-post incremental run, --check."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from bench.common import CASEBOOK, ROOT, Json, Row, dir_mb
from index import Embedder, FolderStore
from ingest.check import check_index
from ingest.pipeline import run_ingest
from ingest.settings import IngestSettings


class RecordingEmbedder:
    """Wraps the real embedder and keeps what the pipeline asked it to embed, and for how long."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.texts: list[str] = []
        self.seconds = 0.0

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed through the real model, recording texts and time."""
        started = time.perf_counter()
        vectors = self.inner.encode(texts, batch_size, progress)
        self.seconds += time.perf_counter() - started
        self.texts += texts
        return vectors

    def count_tokens(self, texts: list[str]) -> list[int]:
        """The real model's token counts."""
        return self.inner.count_tokens(texts)


def run(site: Path, work: Path, embedder: Embedder, encode_sample: float) -> tuple[list[Row], Path, Json]:
    """Build the real blog into work/index from a private copy of the site; return rows and the index path."""
    copy, index_dir = work / "site", work / "index"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(site, copy)
    settings = IngestSettings.from_env(content_dir=copy / "content", site_dir=copy, index_dir=index_dir)
    embedder.encode(["warm up the model once, as a long-running service would"])
    recorder = RecordingEmbedder(embedder)
    report = run_ingest(settings, embedder=recorder)
    texts = recorder.texts
    model_tokens = embedder.count_tokens(texts)
    # The bare baseline: the same model over the same passage texts, same batch size, nothing else.
    step = max(1, round(1 / encode_sample)) if encode_sample < 1 else 1
    sample = texts[::step]
    started = time.perf_counter()
    embedder.encode(sample, settings.batch_size)
    bare = time.perf_counter() - started
    bare_full = bare * sum(model_tokens) / max(1, sum(model_tokens[::step]))
    ratio = bare_full / report.seconds
    version_dir = FolderStore(index_dir).path(report.version or "")
    n = report.passages
    rows = [
        Row("ingest", "real blog", f"{report.posts} posts, {n} passages, {report.tokens} tokens "
            f"({sum(model_tokens)} model tokens)"),
        Row("ingest", "full ingest (model loaded)",
            f"{report.seconds:.1f} s: {n / report.seconds:.1f} passages/s, "
            f"{report.tokens / report.seconds:.0f} tokens/s"),
        Row("ingest", "  stages", ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
            + f", embed {report.embed_seconds:.1f} s"),
        Row("ingest", "bare model.encode, same passages",
            f"{bare_full:.1f} s: {n / bare_full:.1f} passages/s"
            + (f" (timed on every {step}th passage, scaled by tokens)" if step > 1 else "")),
        Row("ingest", "ratio pipeline / bare encode (rate)", f"{ratio:.2f}", ">= 0.9", bool(ratio >= 0.9)),
        Row("ingest", "index on disk",
            f"{dir_mb(version_dir):.1f} MiB (vectors {dir_mb(version_dir / 'vectors.faiss'):.1f}, "
            f"bm25 {dir_mb(version_dir / 'bm25'):.1f}, meta {dir_mb(version_dir / 'meta.sqlite'):.1f})"),
    ]
    rows += _incremental(settings, embedder, copy)
    rows += _check(settings, copy, index_dir, report.posts)
    facts = {"passages": n, "posts": report.posts, "tokens": report.tokens, "seconds": report.seconds,
             "model_tokens": sum(model_tokens), "bare_seconds": bare_full, "texts": texts}
    return rows, index_dir, facts


def _edit_one_post(content: Path, n: int) -> Path:
    posts = sorted(content.rglob("*.md"))
    post = posts[len(posts) // 2 + n]
    with open(post, "a", encoding="utf-8") as handle:
        handle.write(f"\n\nA closing note, edit number {n}, so that one changed post re-embeds alone.\n")
    return post


def _incremental(settings: IngestSettings, embedder: Embedder, copy: Path) -> list[Row]:
    _edit_one_post(copy / "content", 0)
    report = run_ingest(settings, embedder=embedder)
    _edit_one_post(copy / "content", 1)
    started = time.perf_counter()
    subprocess.run([*CASEBOOK, "ingest", "--site", str(copy), "--index", str(settings.index_dir), "-q"],
                   cwd=ROOT, check=True, capture_output=True)
    cli = time.perf_counter() - started
    return [
        Row("ingest", "incremental, one post edited (in process)",
            f"{report.seconds:.2f} s (embedded {report.embedded}, reused {report.reused})", "a few s",
            report.seconds < 10),
        Row("ingest", "incremental, `casebook ingest` CLI wall",
            f"{cli:.1f} s (includes Python + model load)", "a few s", cli < 20),
    ]


def _check(settings: IngestSettings, copy: Path, index_dir: Path, posts: int) -> list[Row]:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        report = check_index(settings)
        times.append(time.perf_counter() - started)
    assert report.current, report.describe()
    per100 = float(np.median(times)) * 100 / max(1, posts)
    started = time.perf_counter()
    subprocess.run([*CASEBOOK, "ingest", "--check", "--site", str(copy), "--index", str(index_dir)],
                   cwd=ROOT, check=True, capture_output=True)
    cli = time.perf_counter() - started
    return [
        Row("ingest", "--check unchanged (in process)", f"{np.median(times) * 1000:.0f} ms = "
            f"{per100 * 1000:.0f} ms per 100 posts", "<< 1 s / 100 posts", per100 < 0.5),
        Row("ingest", "--check unchanged, CLI wall", f"{cli:.2f} s (includes Python start-up)"),
    ]
