"""`casebook ingest --built` on the fixture blog built by Hugo: same posts and answers as the Markdown ingest."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from casebook.cli import main as casebook_main
from casebook.eval.systems import built_names
from index import Embedder, Embedders, FolderStore
from ingest.check import check_index
from ingest.cli import main as ingest_main
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.helpers import FIXTURE_POSTS
from tests.ingest.built.sites import Unavailable, build_hugo

BASE = "https://hugo.example/"


@pytest.fixture(scope="session")
def hugo_public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture blog built once by Debian's hugo with the test theme."""
    try:
        return build_hugo(FIXTURE_POSTS, tmp_path_factory.mktemp("hugo-site"), BASE)
    except Unavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def built(hugo_public: Path, tmp_path_factory: pytest.TempPathFactory,
          embedder: Embedder) -> tuple[Path, IngestReport]:
    """The built HTML ingested once with the real model."""
    index_dir = tmp_path_factory.mktemp("hugo-html-index")
    report = run_ingest(IngestSettings(built_dir=hugo_public, index_dir=index_dir), embedder=embedder)
    return index_dir, report


@pytest.fixture(scope="module")
def html_client(built: tuple[Path, IngestReport], embedders: Embedders) -> Iterator[TestClient]:
    settings = ServiceSettings(index_dir=built[0], reload_seconds=3600, gap_log=None)
    with TestClient(create_app(settings, embedders)) as test_client:
        yield test_client


def url_paths(index_dir: Path) -> set[str]:
    return {urlsplit(p.url).path for p in FolderStore(index_dir).open().posts.values()}


def test_the_built_site_holds_the_same_posts_as_the_markdown(built: tuple[Path, IngestReport],
                                                             index_dir: Path) -> None:
    html_index, report = built
    assert url_paths(html_index) == url_paths(index_dir)
    assert not report.skipped
    reasons = {page.path: page.reason for page in report.not_articles}
    assert reasons["index.html"] == "home page: a list of links"
    assert reasons["tags/kafka/index.html"] == "tag, category, author or archive list"
    assert reasons["series/index.html"] == "a list of links (section or archive page)"


def test_series_come_from_the_folders_in_reading_order(built: tuple[Path, IngestReport]) -> None:
    series = FolderStore(built[0]).open().series
    assert sorted(series) == ["gatekeeper", "lighthouse", "tidepool"]
    assert series["lighthouse"].hub_path == "series/lighthouse/index.html"
    assert series["lighthouse"].title == "Lighthouse Ledger"
    assert series["gatekeeper"].posts == tuple(f"series/gatekeeper/{p}/index.html" for p in (
        "part-1-token-bucket", "part-2-sliding-window", "part-3-distributed-limits-redis"))


def test_a_question_finds_the_section_with_a_deep_link_and_an_answer(html_client: TestClient) -> None:
    body = html_client.get("/api/ask", params={"q": "how does Tidepool pause partitions?"}).json()
    assert body["passages"][0]["url"] == BASE + "series/tidepool/part-1-backpressure/#pausing-partitions"
    assert body["series"][0]["slug"] == "tidepool"
    assert body["found"] and "pause" in body["answer"] and "[1]" in body["answer"]


def test_related_posts_of_a_series_part_are_its_neighbours(html_client: TestClient) -> None:
    body = html_client.get("/api/related", params={"path": "series/gatekeeper/part-2-sliding-window/index.html"}).json()
    top = [r["path"] for r in body["related"][:2]]
    assert set(top) == {"series/gatekeeper/part-1-token-bucket/index.html",
                        "series/gatekeeper/part-3-distributed-limits-redis/index.html"}


def test_every_passage_deep_link_lands_on_an_element_id_of_its_page(built: tuple[Path, IngestReport],
                                                                    hugo_public: Path) -> None:
    version = FolderStore(built[0]).open()
    for passage in version.passages:
        if passage.anchor:
            page = (hugo_public / passage.post_path).read_text(encoding="utf-8")
            assert re.search(rf'\sid="{re.escape(passage.anchor)}"', page), (passage.post_path, passage.anchor)


def test_a_changed_page_re_embeds_only_its_changed_passage(built: tuple[Path, IngestReport], hugo_public: Path,
                                                           tmp_path: Path, embedder: Embedder) -> None:
    public, index_dir = tmp_path / "public", tmp_path / "index"
    shutil.copytree(hugo_public, public)
    shutil.copytree(built[0], index_dir)
    settings = IngestSettings(built_dir=public, index_dir=index_dir)
    assert check_index(settings).current
    page = public / "series" / "tidepool" / "part-1-backpressure" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("is the main signal", "is the signal to watch first"),
                    encoding="utf-8")
    check = check_index(settings)
    assert (check.current, check.changed) == (False, ["series/tidepool/part-1-backpressure/index.html"])
    report = run_ingest(settings, embedder=embedder)
    assert report.embedded == 1 and report.reused == built[1].passages - 1


def test_the_command_line_ingests_a_built_folder_and_reports_what_it_left_out(
        built: tuple[Path, IngestReport], hugo_public: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ingest_main(["--built", str(hugo_public), "--index", str(built[0]), "--check"]) == 0
    assert "is current" in capsys.readouterr().out
    assert ingest_main(["--content", str(FIXTURE_POSTS), "--base-url", BASE, "--check"]) == 2
    assert "--base-url goes with --built" in capsys.readouterr().err


def test_the_ci_job_after_a_build_ships_the_index_of_the_built_pages(built: tuple[Path, IngestReport],
                                                                     hugo_public: Path, tmp_path: Path) -> None:
    index_dir, out = tmp_path / "casebook-index", tmp_path / "casebook-out"
    shutil.copytree(built[0], index_dir)
    assert casebook_main(["ci", "--built", str(hugo_public), "--index", str(index_dir), "--out", str(out)]) == 0
    version = (out / "VERSION").read_text(encoding="utf-8").strip()
    assert version == built[1].version and (out / "index" / "versions" / version).is_dir()


def test_the_eval_names_built_pages_by_the_content_files_the_judgments_use(built: tuple[Path, IngestReport],
                                                                           index_dir: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "content").symlink_to(FIXTURE_POSTS)
    names = built_names(built[0], None, site)
    assert names is not None and built_names(index_dir, None, None) is None  # a Markdown index needs no names
    assert names.content("series/tidepool/part-1-backpressure/index.html") == "series/tidepool/part-1-backpressure.md"
    assert names.index("series/lighthouse/_index.md") == "series/lighthouse/index.html"
    with pytest.raises(ValueError, match="give --site"):
        built_names(built[0], None, None)
