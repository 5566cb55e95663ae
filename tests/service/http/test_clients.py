"""Who a request comes from: X-Forwarded-For believed only from a configured proxy (in uvicorn, one worker or
several), its right-most untrusted address, IPv6 counted by /64."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from index import Embedders
from service.http.app import create_app
from service.http.clients import client_key
from service.http.server import uvicorn_options
from service.settings import ServiceSettings
from tests.helpers import ROOT, free_port, serving, wait_until


def status(base: str, source: str, forwarded: str | None = None, path: str = "/api/series") -> int:
    """The status of one GET sent from the local address `source`, with an X-Forwarded-For header if given."""
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"X-Forwarded-For": forwarded} if forwarded else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def first_then_second(base: str, source: str, first: str | None, second: str | None) -> tuple[int, int]:
    """Two requests under a limit of one a minute: (200, 429) when they count as one client."""
    return status(base, source, first), status(base, source, second)


@pytest.fixture(scope="module")
def behind_loopback_proxy(index_dir: Path, embedders: Embedders) -> Iterator[str]:
    """A real server that trusts 127.0.0.1 as its proxy, one request a minute per client."""
    settings = ServiceSettings(index_dir=index_dir, gap_log=None, rate_limit_per_minute=1,
                               trusted_proxies="127.0.0.1")
    with serving(create_app(settings, embedders)) as base:
        yield base


def test_an_ipv4_address_is_its_own_client_and_an_ipv6_one_counts_as_its_64() -> None:
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"  # an IPv4 client on a dual-stack socket
    assert (client_key(None), client_key("testclient")) == ("unknown", "testclient")


def test_uvicorn_trusts_no_proxy_unless_one_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEBOOK_PROFILE", "production")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own variable must not widen it
    monkeypatch.delenv("CASEBOOK_TRUSTED_PROXIES", raising=False)
    nothing = uvicorn_options(ServiceSettings.from_env(gap_log=None))
    assert (nothing["proxy_headers"], nothing["forwarded_allow_ips"]) == (False, [])
    monkeypatch.setenv("CASEBOOK_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    proxies = uvicorn_options(ServiceSettings.from_env(gap_log=None))
    assert (proxies["proxy_headers"], proxies["forwarded_allow_ips"]) == (True, ["127.0.0.1", "10.0.0.0/8"])


def test_with_no_proxy_trusted_a_forged_forwarded_for_never_buys_a_new_bucket(index_dir: Path,
                                                                              embedders: Embedders) -> None:
    settings = ServiceSettings(index_dir=index_dir, gap_log=None, rate_limit_per_minute=1)
    with serving(create_app(settings, embedders)) as base:
        assert first_then_second(base, "127.0.0.1", "203.0.113.7", "198.51.100.9") == (200, 429)


def test_the_proxys_forwarded_for_names_the_client(behind_loopback_proxy: str) -> None:
    assert first_then_second(behind_loopback_proxy, "127.0.0.1", "203.0.113.10", "203.0.113.11") == (200, 200)
    assert status(behind_loopback_proxy, "127.0.0.1", "203.0.113.10") == 429


def test_forwarded_for_from_an_address_that_is_not_the_proxy_is_ignored(behind_loopback_proxy: str) -> None:
    assert first_then_second(behind_loopback_proxy, "127.0.0.2", "203.0.113.20", "203.0.113.21") == (200, 429)


def test_the_client_is_the_right_most_address_the_proxy_did_not_add(behind_loopback_proxy: str) -> None:
    # nginx with $proxy_add_x_forwarded_for appends the real peer to whatever the client sent
    assert first_then_second(behind_loopback_proxy, "127.0.0.1", "192.0.2.1, 203.0.113.30",
                             "192.0.2.2, 203.0.113.30") == (200, 429)


def test_ipv6_clients_behind_the_proxy_share_a_bucket_per_64(behind_loopback_proxy: str) -> None:
    assert first_then_second(behind_loopback_proxy, "127.0.0.1", "2001:db8:40::1", "2001:db8:40::ffff") == (200, 429)
    assert status(behind_loopback_proxy, "127.0.0.1", "2001:db8:40:1::1") == 200


def test_several_workers_get_the_same_trust_and_header_guard(index_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CASEBOOK_RATE_LIMIT": "1", "CASEBOOK_GAP_LOG": "off", "CASEBOOK_EMBED_THREADS": "1"}
    env.pop("CASEBOOK_TRUSTED_PROXIES", None)
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "casebook", "serve", "--index", str(index_dir), "--port",
                                   str(port), "--workers", "2", "--log-level", "warning"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _ready(base), timeout=180)
            forged = [status(base, "127.0.0.1", f"203.0.113.{n}") for n in range(8)]
            assert forged.count(200) <= 2  # one bucket in each worker, whatever the header says
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz", headers={"X-Big": "a" * 100_000})
            refused = conn.getresponse()  # from the protocol, before any app runs
            assert (refused.status, refused.getheader("content-type")) == (431, "text/plain; charset=utf-8")
            conn.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


def _ready(base: str) -> bool:
    try:
        return status(base, "127.0.0.1", path="/readyz") == 200
    except OSError:
        return False
