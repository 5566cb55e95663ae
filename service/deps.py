"""Named dependencies: the only way route handlers reach the app's state.

Async because they only read attributes: FastAPI runs a plain `def` dependency in the thread pool,
a round trip per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.gaps import GapLog
from service.settings import ServiceSettings
from service.state import Live


async def get_settings(request: Request) -> ServiceSettings:
    """The settings the app was created with."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_live(request: Request) -> Live:
    """The index version serving this request; 503 while none is loaded."""
    live = request.app.state.holder.live
    if live is None:
        raise HTTPException(503, detail=request.app.state.holder.last_error or "index not loaded yet")
    return live  # type: ignore[no-any-return]


async def get_gaps(request: Request) -> GapLog:
    """The log of questions the blog could not answer (a no-op when it is off)."""
    return request.app.state.gaps  # type: ignore[no-any-return]


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
GapLogDep = Annotated[GapLog, Depends(get_gaps)]
LiveDep = Annotated[Live, Depends(get_live)]
