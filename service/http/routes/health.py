"""GET /healthz (process up) and GET /readyz (an index is loaded)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.http.deps import HolderDep
from service.schemas import ReadyOut

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def readyz(holder: HolderDep) -> ReadyOut | JSONResponse:
    """Ready when an index version is loaded and its store answers: its version, counts and model."""
    live = holder.live
    if live is None or holder.unavailable is not None:
        body = ReadyOut(ready=False, detail=holder.unavailable or holder.last_error or "index not loaded yet")
        return JSONResponse(body.model_dump(), status_code=503)
    manifest = live.version.manifest
    return ReadyOut(ready=True, version=manifest.version, model=manifest.model, counts=manifest.counts,
                    built_at=manifest.built_at, detail=holder.last_error)
