"""How `casebook serve` runs uvicorn: forwarded-header trust from the settings, connection and time limits, and
a protocol that stops reading a request's headers once they pass the size limit or take too long."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from service.settings import ServiceSettings

APP_FACTORY = "service.http.asgi:app_from_env"
PROTOCOL = "service.http.server:GuardedHttpTools"  # by name: worker processes import it themselves
# A browser sends its request line and headers in one packet; a client still sending them after this long is
# holding a connection open (slowloris), not asking a question.
HEADER_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5  # an idle kept-alive connection is closed after this (uvicorn's default)
SHUTDOWN_SECONDS = 10  # on SIGTERM, requests in flight get this long to finish


def uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    """uvicorn's settings for the service (both for one worker and for several)."""
    trusted = list(settings.trusted_proxies)
    return {
        "http": PROTOCOL,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise: told, always, from the settings.
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
        "limit_concurrency": settings.max_connections,  # connections and requests per worker; beyond, 503
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": SHUTDOWN_SECONDS,
        # uvicorn reads this for its h11 parser only; GuardedHttpTools reads it as its own header limit.
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "server_header": False,  # no version banner for scanners
    }


def run(settings: ServiceSettings, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve until stopped: one worker on an app built from `settings`, several each building theirs from the
    environment (CASEBOOK_INDEX and CASEBOOK_STORE carry what the flags set)."""
    import uvicorn

    options = {**uvicorn_options(settings), "host": host, "port": port, "log_level": log_level,
               "access_log": False}
    if workers == 1:
        from service.http.app import create_app
        from service.http.logs import configure_logging

        configure_logging()
        uvicorn.run(create_app(settings), **options)
        return
    os.environ.update({"CASEBOOK_INDEX": str(settings.index_dir), "CASEBOOK_STORE": settings.store_location or ""})
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, which reads headers of any size for any time, with both bounded.

    Headers over `h11_max_incomplete_event_size` bytes get a 431 as soon as that much has arrived (not after
    the whole 16 MB); a connection whose request headers are not complete within HEADER_SECONDS of connecting
    (or of its last response) is closed.
    """

    header_seconds = HEADER_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_header_bytes = self.config.h11_max_incomplete_event_size or 16 * 1024
        self._in_headers = True
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
        self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._stop_header_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse; while a request's headers are incomplete, feed at most one byte past the limit, then refuse."""
        while data:
            if self._in_headers:
                room = self._max_header_bytes - self._header_bytes + 1
                piece, data = data[:room], data[room:]
                self._header_bytes += len(piece)
            else:
                piece, data = data, b""
            super().data_received(piece)
            if self.transport.is_closing():
                return
            if self._in_headers and self._header_bytes > self._max_header_bytes:
                self._refuse(431, f"request headers over {self._max_header_bytes} bytes")
                return

    def on_message_begin(self) -> None:
        """A new request: its headers are counted from here."""
        super().on_message_begin()
        self._in_headers = True

    def on_headers_complete(self) -> None:
        """The headers are in: stop counting and stop the clock."""
        self._in_headers = False
        self._header_bytes = 0
        self._stop_header_clock()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """Waiting for the next request on this connection: its headers get their own time."""
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # idle now, not running a pipelined request
            self._in_headers = True
            self._start_header_clock()

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        self._header_timer = self.loop.call_later(self.header_seconds, self._headers_too_slow)

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._in_headers and not self.transport.is_closing():
            self._refuse(408, f"request headers not complete within {self.header_seconds:g} s")

    def _refuse(self, status: int, message: str) -> None:
        """Answer before any app runs (as uvicorn's own 400 does) and close the connection."""
        body = message.encode("ascii")
        self.transport.write(b"".join([
            STATUS_LINE[status], b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n", b"connection: close\r\n\r\n", body,
        ]))
        self.transport.close()
