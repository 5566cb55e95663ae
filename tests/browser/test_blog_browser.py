"""The ⌘K search dialog on a blog built by Hugo, in a real headless Chromium (tests/browser/blog.spec.mjs).

Each variant builds a blog with Debian's `hugo` and the minimal theme in tests/browser/hugo-theme (with
our partial, service/static/hugo/casebook-search.html), serves the built site on one port and
Casebook on another (the site's origin in CORS_ORIGINS), opens a built post, presses Ctrl-K, types a
question and follows a result. The fixture blog (tests/posts) runs in `make test`; the real blog
(../shared/site) is `slow` and needs its index (built once per session, or CASEBOOK_REAL_INDEX).
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from index import FolderStore
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.helpers import ARTIFACTS, BROWSER_DIR, FIXTURE_POSTS, ROOT, missing_browser_tool, run_node

pytestmark = pytest.mark.browser

THEME = BROWSER_DIR / "hugo-theme"
PARTIAL = ROOT / "service" / "static" / "hugo" / "casebook-search.html"
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


@dataclass(frozen=True)
class Blog:
    """A blog to build and the reader's visit: the post opened, the question asked, the page expected."""

    label: str
    content: Path
    config: Path | None  # the site's hugo.toml; None for a content-only folder
    post: str  # content path of the post opened
    query: str
    expect: str  # part of the URL path of the first result


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build_blog(blog: Blog, work: Path, site_url: str, api_url: str) -> Path:
    """Build the blog with Debian's hugo into work/public, the test theme holding our partial."""
    theme = work / "themes" / "casebook-test"
    shutil.copytree(THEME, theme)
    (theme / "layouts" / "partials").mkdir(parents=True)
    shutil.copy(PARTIAL, theme / "layouts" / "partials" / PARTIAL.name)
    config = blog.config
    if config is None:  # a bare content folder: a config like a new site's, minus the fixture's broken post
        config = work / "hugo.toml"
        config.write_text('title = "Fixture blog"\nignoreFiles = ["broken-front-matter\\\\.md$", "\\\\.txt$"]\n',
                          encoding="utf-8")
    # --source is a scratch folder, so nothing is written beside the blog's own files.
    configs = f"{config},{THEME / 'site-overrides.toml'}"
    command = ["hugo", "--source", str(work), "--config", configs, "--contentDir", str(blog.content),
               "--themesDir", str(work / "themes"), "--theme", "casebook-test", "--destination",
               str(work / "public"), "--baseURL", site_url + "/", "--cacheDir", str(work / "cache"),
               "--noBuildLock", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=work,
                          env={**os.environ, "HUGO_PARAMS_CASEBOOKURL": api_url})
    assert done.returncode == 0, f"hugo failed:\n{done.stdout}\n{done.stderr}"
    return work / "public"


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
    public = build_blog(blog, work, site_url, api_url)
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


FIXTURE_BLOG = Blog("fixture", FIXTURE_POSTS, None, "series/lighthouse/part-1-double-entry.md",
                    "how does Tidepool pause partitions?", "part-1-backpressure")


@pytest.fixture(scope="module")
def fixture_summary(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The fixture blog built, served and visited once."""
    for running in serve(FIXTURE_BLOG, index_dir, tmp_path_factory.mktemp("fixture-blog")):
        yield visit(FIXTURE_BLOG, running, index_dir)


@pytest.mark.parametrize("name", CHECKS)
def test_search_dialog_on_the_fixture_blog(fixture_summary: dict[str, Any], name: str) -> None:
    """Each reader-level check of the dialog passed on the fixture blog."""
    _assert_check(fixture_summary, name)


def test_the_dialog_answers_and_leads_to_the_pausing_section(fixture_summary: dict[str, Any]) -> None:
    seen = fixture_summary["seen"]
    assert seen["groups"][0]["post"] == "Tidepool Part 1: Backpressure in Kafka Consumers"
    assert seen["groups"][0]["headings"][0] == "Bounded buffers › Pausing partitions"
    assert "pause" in seen["answer"] and "[1]" in seen["answer"], "the blog's answer on top, with its source"
    landed = seen["followed"]["landed"]
    assert (landed["path"], landed["hash"]) == ("/series/tidepool/part-1-backpressure/", "#pausing-partitions")


def _assert_check(summary: dict[str, Any], name: str) -> None:
    checks = {c["name"]: c for c in summary["checks"]}
    assert name in checks, f"the node script made no check named {name!r}"
    assert checks[name]["ok"], f"{name}: {checks[name]['detail']}"


@pytest.fixture(scope="module")
def real_summary(shared_site: Path, tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The real blog built, served and visited once, over its index."""
    prebuilt = os.environ.get("CASEBOOK_REAL_INDEX")
    index_dir = Path(prebuilt) if prebuilt else request.getfixturevalue("real_index")[0]
    blog = Blog("real", shared_site / "content", shared_site / "hugo.toml",
                "posts/go-microservices.md", "how does Alipay handle Double 11", "alipay")
    for running in serve(blog, index_dir, tmp_path_factory.mktemp("real-blog")):
        yield visit(blog, running, index_dir)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKS)
def test_search_dialog_on_the_real_blog(real_summary: dict[str, Any], name: str) -> None:
    """Each reader-level check of the dialog passed on ../shared/site built by Hugo."""
    _assert_check(real_summary, name)
