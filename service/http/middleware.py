"""Pure ASGI middleware: security headers, request size limits, per-client rate limit, access log, metrics."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.admission import endpoint_of, request_cost
from service.http.clients import scope_client
from service.http.metrics import Metrics

access_log = logging.getLogger("casebook.access")
ADMIN_ROUTES = frozenset({"/authors", "/authors/sign-in", "/authors/sign-out", "/api/authors"})
REFUSAL_PAUSE = 0.5  # seconds a 429 waits before it is sent (Retry-After counts from then)


class SecurityHeaders:
    """Add the security headers to every response except those under `exempt` (the interactive API docs, which
    load their scripts from a CDN, when they are on)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str], exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.headers = headers
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.exempt and scope["path"].startswith(self.exempt)):
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

    def take(self, client: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens: 0.0 when allowed, else the seconds until there are enough."""
        now = self.clock()
        tokens, updated = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.rate)
        wait = 0.0 if tokens >= cost else (min(cost, self.capacity) - tokens) / self.rate
        self._buckets[client] = (tokens - cost if wait == 0.0 else tokens, now)
        # The least recently seen client goes first; a forgotten client simply starts with a full bucket.
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


class RateLimit:
    """Answer 429 with Retry-After once a client spends its per-minute allowance of tokens on /api/.

    A request costs what `request_cost` says (1 for an ordinary search); the client is the peer uvicorn
    reports, which is the X-Forwarded-For client only when the peer is a trusted proxy.
    """

    def __init__(self, app: ASGIApp, per_minute: int, max_query_chars: int, max_k: int, default_k: int,
                 proxies_trusted: bool, metrics: Metrics) -> None:
        self.app = app
        self.per_minute = per_minute
        self.buckets = TokenBuckets(per_minute)
        self.max_query_chars = max_query_chars
        self.max_k = max_k
        self.default_k = default_k
        self.proxies_trusted = proxies_trusted
        self.metrics = metrics
        self._warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            client = scope_client(scope)
            cost = self._cost(scope)
            wait = self.buckets.take(client, cost)
            if not self.proxies_trusted and not self._warned:
                self._warn_if_proxied(scope)
            if wait:
                self.metrics.rate_limited.inc()
                # A client over its limit that asks again at once gets its answer after a pause: a loop of
                # instant refusals would cost the worker more than the requests it refuses.
                await asyncio.sleep(min(wait, REFUSAL_PAUSE))
                retry = max(1, math.ceil(wait - REFUSAL_PAUSE))
                detail = (f"rate limit reached: {self.per_minute} tokens a minute, an ordinary search costs 1 "
                          f"and this request {cost:g}; retry in {retry} s")
                response = JSONResponse({"detail": detail}, status_code=429, headers={"Retry-After": str(retry)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _cost(self, scope: Scope) -> float:
        """The request's cost from its raw parameters (validation comes later, and never costs less)."""
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        chars = min(len(params.get("q", [""])[0]), self.max_query_chars)
        k = params.get("k", [""])[0]
        count = min(int(k), self.max_k) if k.isdigit() else self.default_k
        return request_cost(endpoint_of(scope["path"]), chars, count)

    def _warn_if_proxied(self, scope: Scope) -> None:
        if any(name == b"x-forwarded-for" for name, _ in scope["headers"]):
            self._warned = True
            access_log.warning("requests carry X-Forwarded-For but no proxy is trusted "
                               "(CASEBOOK_TRUSTED_PROXIES): the header is ignored, and behind a proxy every "
                               "client shares its rate-limit bucket")


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
