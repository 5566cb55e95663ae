"""GET /api/search and friends over the fixture index: rankings, filters, errors, escaping, hot switch."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from fastapi.testclient import TestClient

from ingest.pipeline import run_ingest
from ingest.settings import IngestSettings
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.helpers import FIXTURE_POSTS


def _search(client, **params):
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_question_about_retries_ranks_the_idempotency_post_and_its_series_first(client):
    body = _search(client, q="how do I make payment retries safe to repeat?")
    assert body["posts"][0]["path"] == "series/lighthouse/part-2-idempotency-keys.md"
    assert body["series"][0]["slug"] == "lighthouse"
    assert body["passages"][0]["path"] == "series/lighthouse/part-2-idempotency-keys.md"


def test_exact_code_word_is_found_by_the_lexical_ranking(client):
    body = _search(client, q="IDEMPOTENCY-KEY-42")
    assert body["posts"][0]["path"] == "series/lighthouse/part-2-idempotency-keys.md"
    assert "<mark>IDEMPOTENCY</mark>" in body["passages"][0]["snippet"]


def test_paraphrase_without_shared_words_finds_backpressure(client):
    body = _search(client, q="slowing down readers when the downstream writer cannot keep up")
    assert body["posts"][0]["path"] == "series/tidepool/part-1-backpressure.md"
    assert body["series"][0]["slug"] == "tidepool"


def test_response_has_the_contract_shape_with_deep_links(client):
    body = _search(client, q="write-ahead log checkpoints", k=3)
    assert set(body) == {"query", "corrected_query", "took_ms", "passages", "posts", "series"}
    passage = body["passages"][0]
    assert set(passage) == {"rank", "score", "path", "title", "url", "heading", "series", "text", "snippet", "why"}
    assert [p["rank"] for p in body["passages"]] == [1, 2, 3]
    assert len(body["posts"]) <= 3
    with_heading = [p for p in body["passages"] if p["heading"]]
    assert with_heading and all("#" in p["url"] for p in with_heading)
    series = _search(client, q="idempotency keys for retries", k=3)["series"]
    assert series and all(set(s) == {"slug", "title", "url", "score", "posts"} for s in series)


def test_near_duplicate_posts_never_take_two_slots(client):
    body = _search(client, q="Redis cache stampede TTL", k=10)
    paths = [p["path"] for p in body["posts"]]
    assert len({"posts/caching-redis.md", "posts/caching-redis-copy.md"} & set(paths)) == 1


@pytest.mark.parametrize(
    ("params", "expected_paths"),
    [
        ({"series": "tidepool"}, {"series/tidepool/_index.md", "series/tidepool/part-1-backpressure.md",
                                  "series/tidepool/part-2-exactly-once-sinks.md"}),
        ({"section": "posts"}, {"posts/caching-redis.md", "posts/caching-redis-copy.md",
                                "posts/k8s-pod-autoscaling.md", "posts/escaping-untrusted-html.md",
                                "posts/write-ahead-log.md"}),
        ({"since": "2026-02-10", "until": "2026-02-13"}, {"posts/escaping-untrusted-html.md"}),
    ],
)
def test_filters_keep_only_matching_posts(client, params, expected_paths):
    body = _search(client, q="how does it work", k=50, **params)
    assert body["posts"] and {p["path"] for p in body["posts"]} <= expected_paths
    assert {p["path"] for p in body["passages"]} <= expected_paths


def test_tag_filter_matches_case_insensitively(client):
    tag = client.get("/api/posts/posts/k8s-pod-autoscaling.md").json()["tags"][0]
    body = _search(client, q="scaling", tag=tag.upper())
    assert [p["path"] for p in body["posts"]] == ["posts/k8s-pod-autoscaling.md"]


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"q": ""}, 422, "q must not be empty"),
        ({"q": "   \t "}, 422, "q must not be empty"),
        ({"q": "x" * 501}, 422, "the limit is 500"),
        ({"q": "ledger", "k": 0}, 422, None),
        ({"q": "ledger", "k": 51}, 422, None),
        ({"q": "ledger", "k": "ten"}, 422, None),
        ({"q": "ledger", "since": "yesterday"}, 422, None),
        ({"q": "ledger", "series": "no-such-series"}, 404, "unknown series 'no-such-series'"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_message(client, params, status, detail):
    response = client.get("/api/search", params=params)
    assert response.status_code == status
    body = response.json()
    assert "detail" in body
    if detail:
        assert detail in body["detail"]


def test_control_characters_in_the_query_are_harmless(client):
    body = _search(client, q="ledger\x00\x1b[31m entries\u202e")
    assert body["query"] == "ledger [31m entries"


def test_post_text_is_escaped_in_snippets(client):
    body = _search(client, q="Escaping untrusted HTML script alert")
    escaped = next(p for p in body["passages"] if p["path"] == "posts/escaping-untrusted-html.md")
    assert "<script" not in escaped["snippet"] and "<b>" not in escaped["snippet"]
    assert set(escaped["snippet"].replace("<mark>", "").replace("</mark>", "")) & {"<", ">"} == set()


def test_series_lists_every_series_with_posts_in_order(client):
    body = client.get("/api/series").json()
    assert body["count"] == 3
    lighthouse = next(s for s in body["series"] if s["slug"] == "lighthouse")
    assert [p["path"] for p in lighthouse["posts"]] == [
        "series/lighthouse/part-1-double-entry.md",
        "series/lighthouse/part-2-idempotency-keys.md",
        "series/lighthouse/part-3-reconciliation.md",
    ]


def test_post_detail_lists_its_headings_with_deep_links(client):
    body = client.get("/api/posts/series/lighthouse/part-2-idempotency-keys.md").json()
    assert body["title"] == "Lighthouse Part 2: Idempotency Keys for Retries"
    assert body["series"] == ["lighthouse"]
    assert all(h["url"].endswith("#" + h["anchor"]) for h in body["headings"] if h["anchor"])


@pytest.mark.parametrize("path", ["posts/nope.md", "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd"])
def test_unknown_post_path_is_a_404(client, path):
    response = client.get(f"/api/posts/{path}")
    assert response.status_code == 404


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["counts"]["posts"] == 15 and ready["model"] == "all-MiniLM-L6-v2"


def test_not_ready_without_an_index(tmp_path):
    with TestClient(create_app(ServiceSettings(index_dir=tmp_path))) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        response = client.get("/api/search", params={"q": "ledger"})
        assert response.status_code == 503 and "no index published yet" in response.json()["detail"]


def test_page_and_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_cors_allows_only_the_configured_origins(index_dir):
    settings = ServiceSettings(index_dir=index_dir, cors_origins=("https://blog.example",))
    with TestClient(create_app(settings)) as client:
        allowed = client.get("/healthz", headers={"Origin": "https://blog.example"})
        other = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://blog.example"
    assert "access-control-allow-origin" not in other.headers


def test_new_index_version_is_picked_up_without_failing_requests(index_copy, tmp_path, embedder):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_POSTS, content)
    (content / "posts/zebra-crossings.md").write_text(
        "---\ntitle: Zebra crossings\n---\n## Stripes\n\nZebra crossings give pedestrians priority.\n")
    failures: list[int] = []
    stop = threading.Event()
    with TestClient(create_app(ServiceSettings(index_dir=index_copy, reload_seconds=0.1))) as client:
        old = client.get("/readyz").json()["version"]

        def hammer() -> None:
            while not stop.is_set():
                response = client.get("/api/search", params={"q": "ledger entries"})
                if response.status_code != 200:
                    failures.append(response.status_code)

        worker = threading.Thread(target=hammer)
        worker.start()
        run_ingest(IngestSettings(content_dir=content, index_dir=index_copy), embedder=embedder)
        deadline = time.monotonic() + 10
        while client.get("/readyz").json()["version"] == old and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        worker.join()
        assert client.get("/readyz").json()["version"] != old
        assert _search(client, q="zebra crossing pedestrians")["posts"][0]["path"] == "posts/zebra-crossings.md"
    assert failures == []
