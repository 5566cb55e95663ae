"""GET /api/related: the posts an author would link from a post."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from service.authors.related import related_posts, related_space, to_response
from service.http.admission import request_cost
from service.http.deps import AdmissionDep, ClientDep, LiveDep
from service.http.routes import json_response
from service.http.routes.params import CountDep
from service.schemas import RelatedResponse
from service.search.live import Live

router = APIRouter(tags=["related"])


@router.get("/api/related", response_model=RelatedResponse,
            responses={404: {"description": "unknown path or URL"}})
async def related(
    request: Request,
    live: LiveDep,
    admission: AdmissionDep,
    client: ClientDep,
    k: CountDep,
    path: Annotated[str | None, Query(description="content path, e.g. posts/x.md", max_length=500)] = None,
    url: Annotated[str | None, Query(description="public URL or alias of the post", max_length=2000)] = None,
) -> Response:
    """Rank the posts worth linking from this one; `linked` marks links it already has (never used to rank)."""
    if bool(path) == bool(url):
        raise HTTPException(422, detail="give exactly one of path or url")
    async with admission.slot(client, request_cost("related", 0, k)):
        response = await run_in_threadpool(_related, live, path, url, k)
    return json_response(request, response)


def _related(live: Live, path: str | None, url: str | None, k: int) -> RelatedResponse:
    started = time.perf_counter()
    source = live.post(path) if path else live.post_by_url(url or "")
    found = related_posts(live, live.derived(related_space), source.path, k)
    return to_response(source, found, round((time.perf_counter() - started) * 1000, 2))
