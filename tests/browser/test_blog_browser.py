"""Casebook on a blog built by Hugo, in a real headless Chromium: the ⌘K search dialog (tests/browser/blog.spec.mjs)
and the related posts rendered at build time (tests/browser/related.spec.mjs).

Each variant copies a blog's content and adds a post written after the last export, runs
`casebook export hugo` into the build folder, builds with Debian's `hugo` and the minimal theme in
tests/browser/hugo-theme (with our partials, service/static/hugo/), and serves the built site on one port
and Casebook on another (the site's origin in CORS_ORIGINS). The dialog: open a built post, press Ctrl-K,
type a question, follow a result. The related posts: three posts show Casebook's list, equal to
/api/related, the new post Hugo's own, and every link leads to a built page. The fixture blog (tests/posts)
runs in `make test`; the real blog (../shared/site) is `slow` and needs its index (built once per session,
or CASEBOOK_REAL_INDEX).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from bench.hugo import build_with_test_theme
from casebook.cli import main
from index import FolderStore
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.helpers import (
    ARTIFACTS,
    FIXTURE_POSTS,
    assert_node_check,
    fixture_hugo_config,
    free_port,
    missing_browser_tool,
    run_node,
)

pytestmark = pytest.mark.browser

NEW_POST = "posts/written-after-the-export.md"  # in the build, not in the index nor in the exported data
NEW_POST_PATH = "/posts/written-after-the-export/"
RELATED_COUNT = 5  # what the export writes and the partial shows by default
TIMEOUT_S = 240

CHECKS = [
    "trigger_button_mounted",
    "axe_page_no_serious_violations",
    "ctrl_k_opens_dialog_with_focus_in_it",
    "aria_combobox_controls_listbox",
    "page_behind_is_inert",
    "results_grouped_by_post",
    "options_carry_deep_links",
    "first_result_is_active",
    "answer_on_top",
    "first_result_is_the_right_post",
    "axe_open_dialog_no_serious_violations",
    "arrows_move_the_active_option",
    "focus_is_trapped_in_the_dialog",
    "escape_closes_and_restores_focus",
    "slash_opens_the_dialog",
    "no_results_state_is_visible",
    "error_state_is_visible",
    "result_leads_to_its_page",
    "result_leads_to_its_heading",
    "phone_gets_a_full_screen_sheet",
    "no_page_errors",
    "no_dialogs",
]
RELATED_CHECKS = [
    "casebook_list_on_each_known_post",
    "hugo_list_on_the_post_written_after_the_export",
    "axe_post_with_related_list_no_serious_violations",
    "every_link_leads_to_a_built_page",
    "no_page_errors",
]


@dataclass(frozen=True)
class Blog:
    """A blog to build and the reader's visit: the post opened, the question asked, the page expected."""

    label: str
    content: Path
    config: Path | None  # the site's hugo.toml; None for a content-only folder
    post: str  # content path of the post opened
    query: str
    expect: str  # part of the URL path of the first result
    related: tuple[str, str, str]  # content paths of the posts whose related list is read
    new_post_tags: tuple[str, ...]  # tags the new post shares with older ones, so Hugo's own list has something


def site_content(blog: Blog, work: Path) -> Path:
    """The blog's content copied into work/, with one more post, written after the export (our own words)."""
    content = work / "content"
    shutil.copytree(blog.content, content)
    tags = ", ".join(f'"{tag}"' for tag in blog.new_post_tags)
    front = f'title: "Quota Sharing Between Regions"\nslug: written-after-the-export\n' \
        f"date: {date.today() - timedelta(days=1)}\ntags: [{tags}]\n"
    (content / NEW_POST).write_text(f"---\n{front}---\n## Why regions borrow\n\n"
                                    "Each region lends unused request quota to its neighbours once a minute.\n",
                                    encoding="utf-8")
    return content


def build_blog(blog: Blog, work: Path, index_dir: Path, site_url: str, api_url: str) -> Path:
    """Export the related posts into work/, then build the blog with Debian's hugo into work/public."""
    content = site_content(blog, work)
    assert main(["export", "hugo", "--site", str(work), "--index", str(index_dir)]) == 0
    # A bare content folder gets a config like a new site's, minus the fixture's broken post.
    return build_with_test_theme(content, blog.config or fixture_hugo_config(work), work, site_url + "/",
                                 env={"HUGO_PARAMS_CASEBOOKURL": api_url})


@functools.cache
def _quiet_handler(folder: str) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=folder, **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@dataclass
class Running:
    """The built blog and Casebook, each on its own port."""

    site_url: str
    api_url: str


def serve(blog: Blog, index_dir: Path, work: Path) -> Iterator[Running]:
    """Build and serve the blog, and serve Casebook over `index_dir` with the blog's origin allowed."""
    if shutil.which("hugo") is None:
        pytest.skip("hugo is not installed (apt-get install hugo)")
    missing = missing_browser_tool()
    if missing:
        pytest.skip(missing)
    site_port, api_port = free_port(), free_port()
    site_url, api_url = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{api_port}"
    public = build_blog(blog, work, index_dir, site_url, api_url)
    site = ThreadingHTTPServer(("127.0.0.1", site_port), _quiet_handler(str(public)))
    threading.Thread(target=site.serve_forever, daemon=True).start()
    settings = ServiceSettings(index_dir=index_dir, cors_origins=(site_url,), reload_seconds=3600, gap_log=None)
    api = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=api_port, log_level="warning"))
    thread = threading.Thread(target=api.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not api.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Running(site_url, api_url)
    finally:
        api.should_exit = True
        thread.join(timeout=10)
        site.shutdown()
        site.server_close()


def visit(blog: Blog, running: Running, index_dir: Path) -> dict[str, Any]:
    """Run blog.spec.mjs against the served blog and return its JSON summary."""
    post = urlsplit(FolderStore(index_dir).open().posts[blog.post].url)
    arguments = ["blog.spec.mjs", running.site_url + post.path, str(ARTIFACTS), "--query", blog.query,
                 "--expect", blog.expect, "--label", blog.label]
    if post.scheme and post.netloc:  # the index links to where the blog is published
        arguments += ["--map", f"{post.scheme}://{post.netloc}={running.site_url}"]
    return run_node(arguments, blog.label)


def visit_related(blog: Blog, running: Running, index_dir: Path) -> dict[str, Any]:
    """Run related.spec.mjs over the blog's three posts and the new one; add what /api/related says for each."""
    posts = FolderStore(index_dir).open().posts
    pages = [urlsplit(posts[path].url).path for path in blog.related]
    summary = run_node(["related.spec.mjs", running.site_url, str(ARTIFACTS), "--pages", ",".join(pages),
                        "--new", NEW_POST_PATH, "--label", f"{blog.label}-related"], f"{blog.label}-related")
    with httpx.Client(base_url=running.api_url, timeout=60) as http:
        summary["api"] = {page: http.get("/api/related", params={"path": path, "k": RELATED_COUNT}).json()["related"]
                          for path, page in zip(blog.related, pages, strict=True)}
    return summary


FIXTURE_BLOG = Blog("fixture", FIXTURE_POSTS, None, "series/lighthouse/part-1-double-entry.md",
                    "how does Tidepool pause partitions?", "part-1-backpressure",
                    ("posts/caching-redis.md", "series/gatekeeper/part-2-sliding-window.md",
                     "series/lighthouse/part-1-double-entry.md"), ("redis", "rate-limiting"))


@pytest.fixture(scope="module")
def fixture_site(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The fixture blog built and served, with Casebook, for the module."""
    yield from serve(FIXTURE_BLOG, index_dir, tmp_path_factory.mktemp("fixture-blog"))


@pytest.fixture(scope="module")
def fixture_summary(fixture_site: Running, index_dir: Path) -> dict[str, Any]:
    """The search dialog used once on the fixture blog."""
    return visit(FIXTURE_BLOG, fixture_site, index_dir)


@pytest.fixture(scope="module")
def fixture_related(fixture_site: Running, index_dir: Path) -> dict[str, Any]:
    """The related lists read once on the fixture blog."""
    return visit_related(FIXTURE_BLOG, fixture_site, index_dir)


@pytest.mark.parametrize("name", CHECKS)
def test_search_dialog_on_the_fixture_blog(fixture_summary: dict[str, Any], name: str) -> None:
    """Each reader-level check of the dialog passed on the fixture blog."""
    assert_node_check(fixture_summary, name)


def test_the_dialog_answers_and_leads_to_the_pausing_section(fixture_summary: dict[str, Any]) -> None:
    seen = fixture_summary["seen"]
    assert seen["groups"][0]["post"] == "Tidepool Part 1: Backpressure in Kafka Consumers"
    assert seen["groups"][0]["headings"][0] == "Bounded buffers › Pausing partitions"
    assert "pause" in seen["answer"] and "[1]" in seen["answer"], "the blog's answer on top, with its source"
    landed = seen["followed"]["landed"]
    assert (landed["path"], landed["hash"]) == ("/series/tidepool/part-1-backpressure/", "#pausing-partitions")


@pytest.mark.parametrize("name", RELATED_CHECKS)
def test_related_posts_on_the_fixture_blog(fixture_related: dict[str, Any], name: str) -> None:
    """Each reader-level check of the related lists passed on the fixture blog."""
    assert_node_check(fixture_related, name)


def test_each_posts_related_list_is_what_the_api_gives(fixture_related: dict[str, Any]) -> None:
    _assert_lists_match_the_api(fixture_related)


def test_the_post_written_after_the_export_gets_hugos_related_content(fixture_related: dict[str, Any]) -> None:
    titles = [link["title"] for link in fixture_related["pages"][NEW_POST_PATH]["links"]]
    assert "Gatekeeper Part 3: Distributed Limits with Redis" in titles  # shares both tags: Hugo ranks it first
    assert titles[0] == "Gatekeeper Part 3: Distributed Limits with Redis"


def _assert_lists_match_the_api(summary: dict[str, Any]) -> None:
    for page, api in summary["api"].items():
        shown = [(link["title"], urlsplit(link["href"]).path) for link in summary["pages"][page]["links"]]
        assert shown == [(r["title"], urlsplit(r["url"]).path) for r in api], page
        assert len(shown) == RELATED_COUNT


@dataclass(frozen=True)
class RealSite:
    """The real blog built and served over its index."""

    blog: Blog
    index_dir: Path
    running: Running


@pytest.fixture(scope="module")
def real_site(shared_site: Path, tmp_path_factory: pytest.TempPathFactory,
              request: pytest.FixtureRequest) -> Iterator[RealSite]:
    """The real blog built and served once, over its index."""
    prebuilt = os.environ.get("CASEBOOK_REAL_INDEX")
    index_dir = Path(prebuilt) if prebuilt else request.getfixturevalue("real_index")[0]
    blog = Blog("real", shared_site / "content", shared_site / "hugo.toml",
                "posts/go-microservices.md", "how does Alipay handle Double 11", "alipay",
                ("posts/go-microservices.md", "series/alipay-double-11/phase-2-architecture.md",
                 "series/magento-migration-vietnam/go-engineers-vietnam-migration-vetting/index.md"),
                ("Golang", "Microservices"))
    for running in serve(blog, index_dir, tmp_path_factory.mktemp("real-blog")):
        yield RealSite(blog, index_dir, running)


@pytest.fixture(scope="module")
def real_summary(real_site: RealSite) -> dict[str, Any]:
    """The search dialog used once on the real blog."""
    return visit(real_site.blog, real_site.running, real_site.index_dir)


@pytest.fixture(scope="module")
def real_related(real_site: RealSite) -> dict[str, Any]:
    """The related lists read once on the real blog (a post, a series part, a page bundle)."""
    return visit_related(real_site.blog, real_site.running, real_site.index_dir)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKS)
def test_search_dialog_on_the_real_blog(real_summary: dict[str, Any], name: str) -> None:
    """Each reader-level check of the dialog passed on ../shared/site built by Hugo."""
    assert_node_check(real_summary, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", RELATED_CHECKS)
def test_related_posts_on_the_real_blog(real_related: dict[str, Any], name: str) -> None:
    """Each reader-level check of the related lists passed on ../shared/site built by Hugo."""
    assert_node_check(real_related, name)


@pytest.mark.slow
def test_each_real_posts_related_list_is_what_the_api_gives(real_related: dict[str, Any]) -> None:
    _assert_lists_match_the_api(real_related)
