"""GET /api/search."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from service.catalog import Filters
from service.deps import LiveDep, SettingsDep
from service.routes import json_response
from service.schemas import SearchResponse
from service.search import run_search
from service.settings import ServiceSettings

router = APIRouter(tags=["search"])


def clean_query(q: str, settings: ServiceSettings) -> str:
    """Collapse control characters and whitespace; refuse empty or over-long queries with a 422."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in q).split())
    if not text:
        raise HTTPException(422, detail="q must not be empty")
    if len(text) > settings.max_query_chars:
        raise HTTPException(422, detail=f"q is {len(text)} characters; the limit is {settings.max_query_chars}")
    return text


async def search_filters(
    series: Annotated[str | None, Query(description="only posts of this series (slug)", max_length=200)] = None,
    section: Annotated[str | None, Query(description="only this section: posts, series, radar, ...",
                                         max_length=200)] = None,
    tag: Annotated[str | None, Query(description="only posts with this tag", max_length=200)] = None,
    since: Annotated[date | None, Query(description="only posts dated on or after (YYYY-MM-DD)")] = None,
    until: Annotated[date | None, Query(description="only posts dated on or before (YYYY-MM-DD)")] = None,
) -> Filters:
    """The optional filters /api/search and /api/ask share; an empty value means no filter."""
    return Filters(series or None, section or None, tag or None,
                   since.isoformat() if since else None, until.isoformat() if until else None)


def result_count(k: int | None, settings: ServiceSettings) -> int:
    """How many results to return: `k`, or the default; above the service's limit it is a 422."""
    if k is None:
        return settings.default_k
    if k > settings.max_k:
        raise HTTPException(422, detail=f"k is {k}; the limit is {settings.max_k}")
    return k


FiltersDep = Annotated[Filters, Depends(search_filters)]
QueryParam = Annotated[str, Query(description="the question or keywords", max_length=10_000)]
KParam = Annotated[int | None, Query(ge=1, description="how many results (1 to the service's limit, 50 unless set)")]
ExactParam = Annotated[bool, Query(description="search the words as typed: no spelling correction")]


@router.get("/api/search", response_model=SearchResponse)
def search(
    request: Request,
    live: LiveDep,
    settings: SettingsDep,
    filters: FiltersDep,
    q: QueryParam = "",
    k: KParam = None,
    exact: ExactParam = False,
) -> Response:
    """Rank passages, posts and series for a natural-language query."""
    return json_response(request, run_search(live, clean_query(q, settings), filters, result_count(k, settings),
                                             exact))
