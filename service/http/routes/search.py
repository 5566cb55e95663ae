"""GET /api/search."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.http.deps import GapLogDep, LiveDep
from service.http.routes import json_response
from service.http.routes.params import CountDep, ExactParam, FiltersDep, QueryDep
from service.schemas import SearchResponse
from service.search.results import run_search

router = APIRouter(tags=["search"])


@router.get("/api/search", response_model=SearchResponse)
def search(request: Request, live: LiveDep, gaps: GapLogDep, query: QueryDep, filters: FiltersDep,
           k: CountDep, exact: ExactParam = False) -> Response:
    """Rank passages, posts and series for a natural-language query (misspelt words corrected unless `exact`)."""
    response = run_search(live, query, filters, k, exact)
    gaps.offer(live, "search", query)  # logged for authors if nothing in the blog comes close
    return json_response(request, response)
