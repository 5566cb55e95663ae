"""GET /api/search."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.deps import LiveDep
from service.routes import json_response
from service.routes.params import CountDep, FiltersDep, QueryDep
from service.schemas import SearchResponse
from service.search import run_search

router = APIRouter(tags=["search"])


@router.get("/api/search", response_model=SearchResponse)
def search(request: Request, live: LiveDep, query: QueryDep, filters: FiltersDep, k: CountDep) -> Response:
    """Rank passages, posts and series for a natural-language query."""
    return json_response(request, run_search(live, query, filters, k))
