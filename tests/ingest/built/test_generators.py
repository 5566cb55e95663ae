"""Real generators' output, ingested with `--built`: Jekyll (Debian), Pelican and MkDocs (PyPI), Eleventy (npm).

Each builds the same sample of our fixture posts (tests/ingest/built/sites.py) once; the ingest must find the
posts and series, answer a question from the right section with a deep link that lands, and relate a
series part to its neighbours. A generator that is not installed skips with one line saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index import Embedder, Embedders, FolderStore
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.ingest.built.sites import GENERATORS, Unavailable

# Pelican's default theme writes no canonical link: its site's URL is given, as a user would with --base-url.
BASE_URLS = {"pelican": "https://pelican.example"}


@dataclass
class Built:
    """One generator's site, built and ingested, with a client over its index."""

    name: str
    public: Path
    index_dir: Path
    report: IngestReport
    client: TestClient

    def path(self, slug: str) -> str:
        """The index path of the page built from the post `slug`."""
        return next(p for p in FolderStore(self.index_dir).open().posts if slug in p)


@pytest.fixture(scope="module", params=sorted(GENERATORS))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder,
          embedders: Embedders) -> Iterator[Built]:
    name = request.param
    work = tmp_path_factory.mktemp(name)
    try:
        public = GENERATORS[name](work)
    except Unavailable as e:
        pytest.skip(f"{name}: {e}")
    index_dir = work / "index"
    report = run_ingest(IngestSettings(built_dir=public, index_dir=index_dir, base_url=BASE_URLS.get(name)),
                        embedder=embedder)
    settings = ServiceSettings(index_dir=index_dir, reload_seconds=3600, gap_log=None)
    with TestClient(create_app(settings, embedders)) as client:
        yield Built(name, public, index_dir, report, client)


def test_every_sample_post_is_found_and_nothing_is_broken(built: Built) -> None:
    posts = FolderStore(built.index_dir).open().posts
    parts = ("part-1-double-entry", "part-2-idempotency-keys", "part-3-reconciliation", "part-1-backpressure",
             "part-2-exactly-once-sinks", "caching-redis", "k8s-pod-autoscaling")
    assert all(any(part in path for path in posts) for part in parts), sorted(posts)
    assert not built.report.skipped
    assert "Lighthouse Part 1: Double-Entry Bookkeeping" in {p.title for p in posts.values()}


def test_series_come_from_the_site_structure_in_reading_order(built: Built) -> None:
    series = FolderStore(built.index_dir).open().series
    assert [re.findall(r"part-\d", p) for p in series["lighthouse"].posts] == [["part-1"], ["part-2"], ["part-3"]]
    assert len(series["tidepool"].posts) == 2


def test_a_question_is_answered_from_the_right_section_with_a_deep_link_that_lands(built: Built) -> None:
    body = built.client.get("/api/ask", params={"q": "how does Tidepool pause partitions?"}).json()
    top = body["passages"][0]
    assert "part-1-backpressure" in top["path"] and top["url"].endswith("#pausing-partitions")
    assert body["found"] and "pause" in body["answer"]
    page = (built.public / top["path"]).read_text(encoding="utf-8")
    assert re.search(r'\sid="?pausing-partitions', page)


def test_related_posts_of_a_series_part_are_its_series(built: Built) -> None:
    body = built.client.get("/api/related", params={"path": built.path("part-1-double-entry")}).json()
    top = {r["path"] for r in body["related"][:2]}
    assert top == {built.path("part-2-idempotency-keys"), built.path("part-3-reconciliation")}


def test_every_passage_deep_link_lands_on_an_element_id(built: Built) -> None:
    for passage in FolderStore(built.index_dir).open().passages:
        if passage.anchor:
            page = (built.public / passage.post_path).read_text(encoding="utf-8")
            assert re.search(rf'\sid="?{re.escape(passage.anchor)}[">\s]', page), (passage.post_path, passage.anchor)
