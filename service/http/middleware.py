"""Pure ASGI middleware: security headers, request size limits, per-client rate limit, access log, metrics."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.metrics import Metrics

access_log = logging.getLogger("casebook.access")
ADMIN_ROUTES = frozenset({"/authors", "/authors/sign-in", "/authors/sign-out", "/api/authors"})


class SecurityHeaders:
    """Add the security headers to every response except the interactive API docs (they load a CDN)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/docs", "/redoc")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLimits:
    """Refuse oversized headers with 431 and any request body over a small limit with 413 (all are GETs)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal:
                await JSONResponse({"detail": refusal[1]}, status_code=refusal[0])(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        # httptools, uvicorn's default parser, sets no header limit of its own; the proxy should too.
        size = sum(len(name) + len(value) for name, value in scope["headers"])
        if size > self.max_header_bytes:
            return 431, f"request headers are {size} bytes; the limit is {self.max_header_bytes}"
        headers = Headers(scope=scope)
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > self.max_body_bytes or "transfer-encoding" in headers:
            return 413, (f"request body over {self.max_body_bytes} bytes; "
                         "every endpoint takes its input in the URL")
        return None


class TokenBuckets:
    """Per-client token buckets holding up to a minute's allowance, refilled continuously."""

    def __init__(self, per_minute: int, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, updated)

    def take(self, client: str) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until the next token."""
        now = self.clock()
        tokens, updated = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[client] = (tokens - 1 if wait == 0.0 else tokens, now)
        # The least recently seen client goes first; a forgotten client simply starts with a full bucket.
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


class RateLimit:
    """Answer 429 with Retry-After once a client spends its per-minute allowance on /api/."""

    def __init__(self, app: ASGIApp, per_minute: int, trusted_proxies: tuple[str, ...],
                 metrics: Metrics) -> None:
        self.app = app
        self.per_minute = per_minute
        self.buckets = TokenBuckets(per_minute)
        self.trusted = frozenset(trusted_proxies)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            wait = self.buckets.take(client_address(scope, self.trusted))
            if wait:
                self.metrics.rate_limited.inc()
                retry = max(1, math.ceil(wait))
                detail = f"rate limit of {self.per_minute} requests a minute reached; retry in {retry} s"
                body = {"detail": detail}
                response = JSONResponse(body, status_code=429, headers={"Retry-After": str(retry)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def client_address(scope: Scope, trusted: frozenset[str]) -> str:
    """The peer address, or the right-most untrusted X-Forwarded-For entry when the peer is a trusted one."""
    peer = scope["client"][0] if scope.get("client") else "unknown"
    if peer not in trusted:
        return peer
    forwarded = Headers(scope=scope).get("x-forwarded-for", "")
    # Walk from the right: entries added by our own proxies are trustworthy, anything left of them is not.
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if hop not in trusted:
            return hop
    return peer


class Observe:
    """Time every request for the metrics, and log it as one JSON line with its result counts."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool, log_queries: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests
        self.log_queries = log_queries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            if self.log_requests:
                fields = self._fields(scope, route, status, seconds)
                access_log.info("request", extra={"fields": fields})

    def _fields(self, scope: Scope, route: str, status: int, seconds: float) -> dict[str, object]:
        fields: dict[str, object] = {"method": scope["method"], "route": route, "status": status,
                                     "ms": round(seconds * 1000, 2)}
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if route in ADMIN_ROUTES:  # an admin token pasted into their URL by mistake must not reach the log
            params = {}
        if self.log_queries:
            fields["path"] = scope["path"]
            fields["params"] = {k: v[0] for k, v in params.items()}
        elif "q" in params:
            fields["query_chars"] = len(params["q"][0])
        results = scope.get("state", {}).get("results")  # left by service.http.routes.json_response
        if results is not None and 200 <= status < 300:
            fields["results"] = results
        return fields


def route_label(scope: Scope) -> str:
    """The matched route's template ("/api/posts/{path:path}"): bounded label values for the metrics."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    return "/static" if scope["path"].startswith("/static/") else "unmatched"
