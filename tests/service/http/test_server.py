"""The server around the app: headers read only up to their limit and only for so long, as `casebook serve`
runs uvicorn."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from service.http.server import GuardedHttpTools
from service.settings import ServiceSettings
from tests.helpers import serving


class QuickClock(GuardedHttpTools):
    """The guarded protocol with a clock a test can wait for."""

    header_seconds = 0.5


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    """A real uvicorn server as `casebook serve` configures it (a small app; the guard runs before any app)."""
    app = FastAPI()
    app.state.settings = ServiceSettings(gap_log=None)

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "reader"}

    with serving(app, http=QuickClock) as base:
        address = urlsplit(base)
        yield address.hostname or "", address.port or 0


def test_headers_past_the_limit_get_431_before_the_rest_of_16_mb_is_read(server: tuple[str, int]) -> None:
    sent, answer = 0, b""
    with socket.socket() as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)  # so `sent` is close to what arrived
        conn.settimeout(10)
        conn.connect(server)
        conn.sendall(b"GET /hello HTTP/1.1\r\nHost: casebook\r\nX-Big: ")
        try:
            while sent < 16 * 2**20 and not answer:
                conn.sendall(b"a" * 16384)
                sent += 16384
                if select.select([conn], [], [], 0)[0]:
                    answer = conn.recv(200)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert sent < 2**20  # the server stopped reading after 16 KiB and closed; it never read 16 MB
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")


@pytest.mark.parametrize("trickle", [b"", b"X-Slow: 1\r\n"])
def test_a_client_that_does_not_finish_its_headers_in_time_is_cut_off(server: tuple[str, int],
                                                                      trickle: bytes) -> None:
    started = time.monotonic()
    with socket.create_connection(server, timeout=10) as conn:
        if trickle:
            conn.sendall(b"GET /hello HTTP/1.1\r\nHost: casebook\r\n")
        answer = b""
        while time.monotonic() - started < 5:
            if select.select([conn], [], [], 0.1)[0]:
                answer = conn.recv(200) or b"closed"
                break
            if trickle:
                conn.sendall(trickle)  # a header every tenth of a second, never the blank line
    assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 408 ") or answer == b"closed"


def test_a_kept_alive_connection_gets_fresh_time_for_each_request(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as conn:
        for _ in range(3):
            time.sleep(0.3)  # each pause alone is within the clock; together they are not
            conn.sendall(b"GET /hello HTTP/1.1\r\nHost: casebook\r\n\r\n")
            assert conn.recv(1000).startswith(b"HTTP/1.1 200 ")
