"""Named dependencies: the only way route handlers reach the app's state.

Async because they only read attributes: FastAPI runs a plain `def` dependency in the thread pool,
a round trip per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.answers.llm import LlmClient
from service.authors.gap_log import GapLog
from service.http.admission import Admission
from service.http.clients import scope_client
from service.search.holder import IndexHolder
from service.search.live import Live
from service.settings import ServiceSettings


async def get_settings(request: Request) -> ServiceSettings:
    """The settings the app was created with."""
    settings: ServiceSettings = request.app.state.settings
    return settings


async def get_holder(request: Request) -> IndexHolder:
    """What holds the live version, for readiness: the version or why there is none."""
    holder: IndexHolder = request.app.state.holder
    return holder


async def get_live(request: Request) -> Live:
    """The index version serving this request; 503 while none is loaded."""
    holder: IndexHolder = request.app.state.holder
    live = holder.live
    if live is None:
        raise HTTPException(503, detail=holder.last_error or "index not loaded yet")
    return live


async def get_llm(request: Request) -> LlmClient | None:
    """The language-model client made in the lifespan, or None when CASEBOOK_LLM_URL is not set."""
    llm: LlmClient | None = request.app.state.llm
    return llm


async def get_gaps(request: Request) -> GapLog:
    """The log of questions the blog could not answer (a no-op when it is off)."""
    gaps: GapLog = request.app.state.gaps
    return gaps


async def get_client(request: Request) -> str:
    """Who asks: the client's address (an IPv6 /64), as the rate limit counts it."""
    return scope_client(request.scope)


async def get_admission(request: Request) -> Admission:
    """The worker's ranking slots (made in the lifespan, on the event loop that serves)."""
    state = request.app.state
    if getattr(state, "admission", None) is None:  # an app driven without its lifespan
        state.admission = Admission.from_settings(state.settings)
    admission: Admission = state.admission
    return admission


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
ClientDep = Annotated[str, Depends(get_client)]
AdmissionDep = Annotated[Admission, Depends(get_admission)]
GapLogDep = Annotated[GapLog, Depends(get_gaps)]
HolderDep = Annotated[IndexHolder, Depends(get_holder)]
LiveDep = Annotated[Live, Depends(get_live)]
LlmDep = Annotated[LlmClient | None, Depends(get_llm)]
