"""What the service tells a stranger: nothing of what other readers asked, no server paths, never their Host
header back; metrics only with the admin token; the API docs off in production; caches bounded in bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index import Embedders
from service.http.app import create_app
from service.settings import ServiceSettings

TOKEN = "admin-token-for-the-metrics-0123456789"


@pytest.mark.parametrize("path", ["/api/search/?q=ledger", "/api/series/", "/static/", "/docs/", "/nope/"])
def test_no_response_ever_names_the_host_the_client_sent(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404  # no trailing-slash redirect, whose Location would carry the Host
    assert "evil.example" not in response.text and "evil.example" not in str(response.headers)


def test_metrics_exist_only_with_an_admin_token_and_open_only_with_it(index_dir: Path, embedders: Embedders) -> None:
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, gap_log=None), embedders)) as client:
        assert client.get("/metrics").status_code == 404
    settings = ServiceSettings(index_dir=index_dir, gap_log=None, admin_token=TOKEN)
    with TestClient(create_app(settings, embedders)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", params={"token": TOKEN}).status_code == 401
        opened = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert opened.status_code == 200 and "casebook_index_ready 1.0" in opened.text


def test_the_api_docs_are_off_in_production_and_the_schema_stays(index_dir: Path, embedders: Embedders,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, gap_log=None), embedders)) as local:
        assert local.get("/docs").status_code == 200
    monkeypatch.setenv("CASEBOOK_PROFILE", "production")
    settings = ServiceSettings.from_env(index_dir=index_dir, gap_log=None)
    with TestClient(create_app(settings, embedders)) as production:
        assert [production.get(p).status_code for p in ("/docs", "/redoc", "/docs/oauth2-redirect")] == [404] * 3
        assert production.get("/openapi.json").status_code == 200  # what API clients read
        assert "script-src 'self'" in production.get("/docs").headers["content-security-policy"]


def test_no_error_names_a_server_path(tmp_path: Path, embedders: Embedders) -> None:
    empty = tmp_path / "srv" / "casebook-index"
    empty.mkdir(parents=True)
    with TestClient(create_app(ServiceSettings(index_dir=empty, gap_log=None), embedders)) as client:
        ready, search = client.get("/readyz"), client.get("/api/search", params={"q": "ledger"})
    assert (ready.status_code, search.status_code) == (503, 503)
    assert ready.json()["detail"] == search.json()["detail"] == "no index published yet"
    assert str(tmp_path) not in ready.text + search.text


def test_a_cached_response_is_only_ever_served_to_the_client_that_asked(index_dir: Path,
                                                                        embedders: Embedders) -> None:
    app = create_app(ServiceSettings(index_dir=index_dir, gap_log=None), embedders)
    question = {"q": "which reader asked about consumer lag"}
    with TestClient(app, client=("198.51.100.1", 5000)) as first, \
            TestClient(app, client=("198.51.100.2", 5000)) as second:
        live = app.state.holder.live
        first.get("/api/search", params=question)
        seen = (live.searches.hits, live.query_vectors.hits)
        second.get("/api/search", params=question)  # the same words from someone else: worked out again
        assert (live.searches.hits, live.query_vectors.hits) == seen
        first.get("/api/search", params=question)  # the same reader again: from the cache
        assert live.searches.hits == seen[0] + 1


def test_the_response_cache_holds_many_small_responses_or_few_large_ones(index_dir: Path,
                                                                         embedders: Embedders) -> None:
    app = create_app(ServiceSettings(index_dir=index_dir, gap_log=None, cache_mb=1), embedders)
    with TestClient(app) as client:
        kept = {}
        for k in (50, 1):
            for n in range(30):
                client.get("/api/search", params={"q": f"ledger entries {n}", "k": k})
            kept[k] = len(app.state.holder.live.searches)
    assert kept[1] >= 30 and kept[50] < 10  # half a MiB: thirty 1-result responses, a few 50-result ones
