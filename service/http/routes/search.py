"""GET /api/search."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from service.http.admission import request_cost
from service.http.deps import AdmissionDep, ClientDep, GapLogDep, LiveDep
from service.http.routes import json_response
from service.http.routes.params import CountDep, ExactParam, FiltersDep, QueryDep
from service.schemas import SearchResponse
from service.search.results import run_search

router = APIRouter(tags=["search"])


@router.get("/api/search", response_model=SearchResponse,
            responses={503: {"description": "busy: no ranking slot came free in time (Retry-After)"}})
async def search(request: Request, live: LiveDep, gaps: GapLogDep, admission: AdmissionDep, client: ClientDep,
                 query: QueryDep, filters: FiltersDep, k: CountDep, exact: ExactParam = False) -> Response:
    """Rank passages, posts and series for a natural-language query (misspelt words corrected unless `exact`)."""
    async with admission.slot(client, request_cost("search", len(query), k)):
        response = await run_in_threadpool(run_search, live, query, filters, k, exact, client)
    gaps.offer(live, "search", query, asker=client)  # logged for authors if nothing in the blog comes close
    return json_response(request, response)
