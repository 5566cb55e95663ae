"""create_app: the FastAPI app over one index (folder or database), reloading when ingest publishes a new version."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from index.embedder import Embedders
from index.errors import IndexError_
from service.answers.llm import LlmClient
from service.authors.gap_log import GapLog
from service.authors.related import related_space
from service.http.admin import AdminDep
from service.http.admission import Admission, Refused
from service.http.metrics import Metrics
from service.http.middleware import Observe, RateLimit, RequestLimits, SecurityHeaders
from service.http.routes import ask, authors, catalog, health, related, search
from service.search.holder import IndexHolder
from service.search.live import UnknownName
from service.settings import ServiceSettings

STATIC = Path(__file__).parents[1] / "static"  # the page and the scripts blogs embed: package data
log = logging.getLogger("casebook.service")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def create_app(settings: ServiceSettings, embedders: Embedders | None = None) -> FastAPI:
    """Build the app; the lifespan opens the index, watches for new versions and holds the model client.

    `embedders` lets several apps in one process share loaded models (tests do); by default the app
    loads its own.
    """
    # Each version builds its related-posts space before it serves: seconds of work on the real blog.
    holder = IndexHolder(settings.store(for_service=True), embedders or Embedders(settings.runtime),
                         settings.cache_mb * 2**20, prepare=[related_space])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(holder.refresh)
        watcher = asyncio.create_task(_watch(holder, settings.reload_seconds))
        app.state.llm = LlmClient.from_settings(settings)
        app.state.admission = Admission.from_settings(settings)
        app.state.gaps.start()
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if app.state.llm is not None:
                await app.state.llm.aclose()
            await run_in_threadpool(app.state.gaps.close)
            await run_in_threadpool(holder.close)

    docs = settings.api_docs
    # No trailing-slash redirects: Starlette builds their Location from the request's Host header.
    app = FastAPI(title="Casebook", summary="Semantic search and answers over a Hugo blog", lifespan=lifespan,
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None, redirect_slashes=False)
    app.state.settings = settings
    app.state.holder = holder
    app.state.llm = None
    app.state.metrics = metrics = Metrics(holder)
    app.state.gaps = GapLog(settings.gap_log, settings.gap_log_max_rows, settings.gap_log_max_days)
    for router in (search.router, catalog.router, health.router, ask.router, related.router, authors.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    # Behind the admin token (a bearer header Prometheus can send): the metrics count what readers do.
    @app.get("/metrics", include_in_schema=False)
    def prometheus(_: AdminDep) -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    original_openapi = app.openapi
    # Replacing app.openapi is FastAPI's documented way to extend the schema; mypy sees a method assigned.
    app.openapi = lambda: _openapi_with_message_errors(app, original_openapi)  # type: ignore[method-assign]

    @app.exception_handler(UnknownName)
    async def unknown_name(request: Request, exc: UnknownName) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    # A database store that is down, restarting or too slow, or a version pruned under a lagging reader:
    # this request cannot be served now, and the next poll or reconnection puts things right.
    @app.exception_handler(IndexError_)
    async def index_unavailable(request: Request, exc: IndexError_) -> JSONResponse:
        log.warning("request failed on the index store: %s", exc)  # the reason, with its paths, stays here
        return JSONResponse({"detail": "index unavailable: the index store did not answer; retry shortly"},
                            status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        metrics.busy.inc()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status,
                            headers={"Retry-After": str(exc.retry_after)})

    # Added innermost first: a request meets the security headers, the log, the size limits, the rate limit.
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET"],
                           allow_headers=["*"], max_age=600)
    if settings.rate_limit_per_minute:
        app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute,
                           max_query_chars=settings.max_query_chars, max_k=settings.max_k,
                           default_k=settings.default_k, proxies_trusted=bool(settings.trusted_proxies),
                           metrics=metrics)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes,
                       max_header_bytes=settings.max_header_bytes)
    app.add_middleware(Observe, metrics=metrics, log_requests=settings.access_log,
                       log_queries=settings.log_queries)
    app.add_middleware(SecurityHeaders, headers=SECURITY_HEADERS, exempt=("/docs", "/redoc") if docs else ())
    return app


def _openapi_with_message_errors(app: FastAPI, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI schema, where a 422 may carry one message as well as FastAPI's list of field errors."""
    if app.openapi_schema is None:
        schema = build()  # FastAPI keeps it as app.openapi_schema
        error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
        if error:  # handlers raise HTTPException(422, "q must not be empty") for checks a type cannot express
            listed = error["properties"]["detail"]
            error["properties"]["detail"] = {"title": "Detail", "anyOf": [listed, {"type": "string"}]}
        return schema
    return app.openapi_schema


async def _watch(holder: IndexHolder, every: float) -> None:
    """Poll the published version (CURRENT, or the database's pointer row) and load a new one off the event loop.

    A new version is made ready to serve (its related-posts space included) before it is swapped in, while
    the old one keeps serving.
    """
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(holder.refresh)
        except Exception:  # keep watching whatever one load did
            log.exception("index refresh failed")
