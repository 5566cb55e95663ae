"""HTTP limits: rate limit, body and header size, hostile queries, path traversal, security headers."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from service.http.app import create_app
from service.http.middleware import TokenBuckets
from service.settings import ServiceSettings

TOKEN = "admin-token-for-the-metrics-0123456789"


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(index_dir, embedders):
    settings = ServiceSettings(index_dir=index_dir, gap_log=None, rate_limit_per_minute=3, admin_token=TOKEN)
    with TestClient(create_app(settings, embedders)) as client:
        responses = [client.get("/api/search", params={"q": "ledger"}) for _ in range(4)]
        started = time.monotonic()
        assert client.get("/api/series").status_code == 429
        paused = time.monotonic() - started
        assert client.get("/readyz").status_code == 200  # health checks are never limited
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[-1]
    assert refused.headers["retry-after"] == "20"
    assert paused >= 0.5  # asking again at once: the refusal comes after a pause
    assert refused.json()["detail"] == ("rate limit reached: 3 tokens a minute, an ordinary search costs 1 and "
                                        "this request 1; retry in 20 s")
    assert "casebook_rate_limited_total 2.0" in metrics


def test_token_bucket_refills_at_the_configured_rate():
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(60)] == [0.0] * 60
    assert buckets.take("a") == pytest.approx(1.0) and buckets.take("b") == 0.0
    now[0] += 2.5
    assert buckets.take("a") == 0.0 and buckets.take("a") == 0.0 and buckets.take("a") == pytest.approx(0.5)


def test_rate_limit_is_off_by_default_for_local_use(client):
    assert all(client.get("/api/series").status_code == 200 for _ in range(30))


@pytest.mark.parametrize(
    ("headers", "body"),
    [({}, b"x" * 2048), ({"Content-Length": "999999999"}, b""), ({"Content-Length": "-1"}, b""),
     ({"Transfer-Encoding": "chunked"}, b"")],
)
def test_request_bodies_over_the_limit_are_refused_with_413(client, headers, body):
    response = client.request("GET", "/api/search", params={"q": "ledger"}, headers=headers, content=body)
    assert response.status_code == 413
    assert "every endpoint takes its input in the URL" in response.json()["detail"]


@pytest.mark.parametrize(
    ("q", "searched"),
    [("\x00\x01\x02 ledger \x7f", "ledger"), ("\u202eledger\u202c", "ledger"), ("ledger\ufeff\u200b\u200d", "ledger"),
     ("💥🔥 ledger 🧾", "💥🔥 ledger 🧾"), ("Ｌｅｄｇｅｒ", "Ｌｅｄｇｅｒ"),
     ("'; DROP TABLE posts; --", "'; DROP TABLE posts; --"),
     ("<script>alert(1)</script>", "<script>alert(1)</script>"), ("*", "*"), ("%00", "%00"), ("how", "how"),
     ("?" * 500, "?" * 500)],
)
def test_hostile_queries_are_searched_as_cleaned_text_and_never_echoed_into_html(client, q, searched):
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"] == searched  # control and invisible characters dropped, the rest kept as text
    assert not [p for p in body["passages"] if "<script" in p["snippet"]]


@pytest.mark.parametrize(("q", "detail"), [("x" * 20_000, "at most 10000 characters"),
                                           ("e\u0301" * 400, "q is 800 characters; the limit is 500")])
def test_over_long_queries_are_a_422_saying_the_limit(client, q, detail):
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 422 and detail in str(response.json()["detail"])


@pytest.mark.parametrize("raw", ["%ED%A0%80", "%FF%FE%FD", "%C0%AF", "%", "%zz", "ledger%00"])
def test_invalid_utf8_or_broken_escapes_in_the_query_are_harmless(client, raw):
    assert client.get(f"/api/search?q={raw}").status_code in (200, 422)


@pytest.mark.parametrize("k", ["1000000000000000000000", "-1", "1e400", "NaN", "0x10", ""])
def test_huge_or_malformed_k_is_a_422(client, k):
    assert client.get("/api/search", params={"q": "ledger", "k": k}).status_code == 422


def test_k_above_the_configured_limit_is_a_422_on_every_endpoint_that_takes_it(index_dir):
    with TestClient(create_app(ServiceSettings(index_dir=index_dir, max_k=5, default_k=3))) as small:
        for path, params in (("/api/search", {"q": "ledger"}), ("/api/ask", {"q": "ledger"}),
                             ("/api/related", {"path": "posts/caching-redis.md"})):
            assert small.get(path, params={**params, "k": 5}).status_code == 200
            refused = small.get(path, params={**params, "k": 6})
            assert (refused.status_code, refused.json()["detail"]) == (422, "k is 6; the limit is 5")
        assert len(small.get("/api/search", params={"q": "ledger"}).json()["posts"]) <= 3


@pytest.mark.parametrize(
    "url",
    ["/api/posts/../../etc/passwd", "/api/posts/..%2F..%2Fetc%2Fpasswd",
     "/api/posts/%2e%2e/%2e%2e/etc/passwd",
     "/api/related?path=../../etc/passwd", "/api/related?path=/etc/passwd",
     "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fservice/app.py"],
)
def test_path_traversal_never_reads_a_file(client, url):
    response = client.get(url)
    assert response.status_code in (404, 422)
    assert "root:" not in response.text and "import" not in response.text


def test_oversized_headers_are_refused_with_431_and_the_server_keeps_serving(live_server):
    host, port = urlsplit(live_server).hostname, urlsplit(live_server).port
    request = (f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Big: {'a' * 100_000}\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(request)
        status_line = conn.recv(200).split(b"\r\n")[0]
    assert status_line.split()[1] == b"431"
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        assert conn.recv(200).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("path", ["/", "/static/casebook.js", "/api/search?q=ledger", "/readyz", "/nope"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_the_page_loads_only_same_origin_script_and_style_so_the_policy_allows_it(client):
    page = client.get("/").text
    assert '<script src="/static/casebook.js"' in page and "<script>" not in page
    assert "<style" not in page and " style=" not in page and " on" + "click=" not in page
