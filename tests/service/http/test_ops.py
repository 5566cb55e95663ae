"""Operations: JSON request logs, Prometheus metrics, the production profile, `casebook index ...`."""

from __future__ import annotations

import json
import logging
import re
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from casebook.cli import main
from index import FolderStore
from service.http.app import create_app
from service.http.logs import JsonFormatter, configure_logging
from service.settings import ServiceSettings


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "casebook.access"]


@pytest.mark.parametrize("log_queries", [True, False])
def test_each_request_is_one_json_log_line_with_latency_and_result_counts(index_dir, caplog, log_queries):
    caplog.set_level(logging.INFO, logger="casebook.access")
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, log_queries=log_queries))) as client:
        body = client.get("/api/search", params={"q": "secret ledger question", "k": 3}).json()
    (line,) = _access_lines(caplog)
    assert line["msg"] == "request" and line["route"] == "/api/search" and line["status"] == 200
    assert isinstance(line["ms"], float) and line["ms"] > 0
    assert line["results"] == {"passages": len(body["passages"]), "posts": len(body["posts"]),
                               "series": len(body["series"])}
    text = json.dumps(line)
    if log_queries:
        assert line["params"] == {"q": "secret ledger question", "k": "3"}
    else:
        assert "secret" not in text and line["query_chars"] == len("secret ledger question")


def test_metrics_expose_latency_histograms_index_version_and_cache_hit_rate(index_dir):
    token = "admin-token-for-the-metrics-0123456789"
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, gap_log=None, admin_token=token))) as client:
        for _ in range(3):
            client.get("/api/search", params={"q": "consumer lag"})
        version = client.get("/readyz").json()["version"]
        response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    text = response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert 'casebook_request_duration_seconds_count{route="/api/search"} 3.0' in text
    assert 'casebook_requests_total{method="GET",route="/api/search",status="200"} 3.0' in text
    assert f'casebook_index_info{{model="all-MiniLM-L6-v2",version="{version}"}} 1.0' in text
    assert "casebook_index_ready 1.0" in text
    hits = re.findall(r'^casebook_cache_hits_total\{cache="(\w+)"\} (\S+)$', text, re.MULTILINE)
    assert {name for name, _ in hits} == {"searches", "answers", "query_vectors"}
    assert sum(float(value) for _, value in hits) >= 2  # the repeated query came from a cache
    assert re.search(r'^casebook_cache_hit_ratio\{cache="\w+"\} 0\.6666', text, re.MULTILINE)


def test_production_profile_turns_the_rate_limit_on_and_query_logging_and_api_docs_off(monkeypatch):
    monkeypatch.setenv("CASEBOOK_PROFILE", "production")
    settings = ServiceSettings.from_env()
    assert (settings.rate_limit_per_minute, settings.log_queries, settings.api_docs) == (120, False, False)
    assert settings.trusted_proxies == ()  # behind a proxy, its address is set by hand
    monkeypatch.setenv("CASEBOOK_RATE_LIMIT", "0")
    assert ServiceSettings.from_env().rate_limit_per_minute == 0  # a variable still overrides the profile
    monkeypatch.delenv("CASEBOOK_PROFILE")
    assert ServiceSettings.from_env().log_queries is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("CASEBOOK_PROFILE", "prod", "CASEBOOK_PROFILE has value 'prod'. Not one of local, production."),
     ("CASEBOOK_LOG_QUERIES", "maybe", "CASEBOOK_LOG_QUERIES has value 'maybe'. Not a valid boolean."),
     ("CASEBOOK_RATE_LIMIT", "-5", "CASEBOOK_RATE_LIMIT has value '-5'. Not 0 or more."),
     ("CASEBOOK_MAX_BODY_BYTES", "1k", "CASEBOOK_MAX_BODY_BYTES has value '1k'. Not a valid int.")],
)
def test_bad_settings_name_the_variable_and_value(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as error:
        ServiceSettings.from_env()
    assert str(error.value) == message


def test_configure_logging_adds_one_json_handler(capsys):
    logger = logging.getLogger("casebook")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        configure_logging()
        configure_logging()
        logging.getLogger("casebook.index").info("serving index version %s", "v1")
        assert [json.loads(line)["msg"] for line in capsys.readouterr().err.splitlines()] == [
            "serving index version v1"]
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def _with_older_version(root):  # type: ignore[no-untyped-def]
    older = "20000101T000000000000Z-older"
    shutil.copytree(FolderStore(root).path(FolderStore(root).published()), FolderStore(root).path(older))
    manifest = FolderStore(root).path(older) / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "version": older}))
    return older


def test_index_list_shows_every_version_and_marks_the_published_one(index_copy, capsys):
    older = _with_older_version(index_copy)
    assert main(["index", "list", "-i", str(index_copy), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [v["version"] for v in listing["versions"]] == [older, FolderStore(index_copy).published()]
    assert [v["current"] for v in listing["versions"]] == [False, True]
    assert main(["index", "list", "-i", str(index_copy)]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"* {FolderStore(index_copy).published()}")


def test_rollback_publishes_the_previous_version_and_the_service_follows(index_copy, capsys):
    newest = FolderStore(index_copy).published()
    older = _with_older_version(index_copy)
    with TestClient(create_app(ServiceSettings(index_dir=index_copy, reload_seconds=0.05))) as client:
        assert main(["index", "rollback", "-i", str(index_copy)]) == 0
        assert FolderStore(index_copy).published() == older
        assert f"published {older} (was {newest})" in capsys.readouterr().out
        deadline = time.monotonic() + 10
        while client.get("/readyz").json()["version"] != older and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/readyz").json()["version"] == older
    assert main(["index", "rollback", "-i", str(index_copy)]) == 2
    assert "no version older than" in capsys.readouterr().err
    assert main(["index", "rollback", "-i", str(index_copy), "--to", newest]) == 0
    assert FolderStore(index_copy).published() == newest and len(FolderStore(index_copy).versions()) == 2


def test_rollback_refuses_a_damaged_version_and_changes_nothing(index_copy, capsys):
    newest = FolderStore(index_copy).published()
    older = _with_older_version(index_copy)
    (FolderStore(index_copy).path(older) / "vectors.faiss").write_bytes(b"garbage")
    assert main(["index", "rollback", "-i", str(index_copy)]) == 2
    assert "vectors.faiss: unreadable" in capsys.readouterr().err
    assert FolderStore(index_copy).published() == newest
