"""create_app: the FastAPI app over one index folder, reloading when ingest publishes a new version."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from service.catalog import UnknownName
from service.routes import catalog, health, search
from service.settings import ServiceSettings
from service.state import IndexHolder

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("casebook.service")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def create_app(settings: ServiceSettings) -> FastAPI:
    """Build the app; the lifespan opens the index and watches for new versions."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder: IndexHolder = app.state.holder
        await run_in_threadpool(holder.refresh)
        watcher = asyncio.create_task(_watch(holder, settings.reload_seconds))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    app = FastAPI(title="Casebook", summary="Semantic search and answers over a Hugo blog", lifespan=lifespan)
    app.state.settings = settings
    app.state.holder = IndexHolder(settings.index_dir, settings.cache_size)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET"],
                           allow_headers=["*"], max_age=600)
    for router in (search.router, catalog.router, health.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.exception_handler(UnknownName)
    async def unknown_name(request: Request, exc: UnknownName) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        if not request.url.path.startswith("/docs"):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    return app


async def _watch(holder: IndexHolder, every: float) -> None:
    """Poll CURRENT and load a newly published version off the event loop."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(holder.refresh)
        except Exception:  # keep watching whatever one load did
            log.exception("index refresh failed")
