"""The request parameters the search, answer and related routes share, checked before a handler runs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Query

from service.http.deps import LiveDep, SettingsDep
from service.search.live import Filters


async def search_query(
    settings: SettingsDep,
    q: Annotated[str, Query(description="the question or keywords", max_length=10_000)] = "",
) -> str:
    """The query with control characters and runs of whitespace collapsed; empty or over-long is a 422."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in q).split())
    if not text:
        raise HTTPException(422, detail="q must not be empty")
    if len(text) > settings.max_query_chars:
        raise HTTPException(422, detail=f"q is {len(text)} characters; the limit is {settings.max_query_chars}")
    return text


async def result_count(
    settings: SettingsDep,
    k: Annotated[int | None, Query(ge=1, description="how many results (1 to the service's limit, 50 unless set)")]
    = None,
) -> int:
    """How many results to return: `k`, or the default; above the service's limit it is a 422."""
    if k is None:
        return settings.default_k
    if k > settings.max_k:
        raise HTTPException(422, detail=f"k is {k}; the limit is {settings.max_k}")
    return k


async def search_filters(
    live: LiveDep,
    series: Annotated[str | None, Query(description="only posts of this series (slug)", max_length=200)] = None,
    section: Annotated[str | None, Query(description="only this section: posts, series, radar, ...",
                                         max_length=200)] = None,
    tag: Annotated[str | None, Query(description="only posts with this tag", max_length=200)] = None,
    since: Annotated[date | None, Query(description="only posts dated on or after (YYYY-MM-DD)")] = None,
    until: Annotated[date | None, Query(description="only posts dated on or before (YYYY-MM-DD)")] = None,
) -> Filters:
    """The optional filters; an empty value means no filter, an unknown series is a 404."""
    filters = Filters(series=series or None, section=section or None, tag=tag or None,
                      since=since.isoformat() if since else None, until=until.isoformat() if until else None)
    live.check(filters)  # raises UnknownName (404) before any work, or any streamed byte
    return filters


QueryDep = Annotated[str, Depends(search_query)]
ExactParam = Annotated[bool, Query(description="search the words as typed: no spelling correction")]
CountDep = Annotated[int, Depends(result_count)]
FiltersDep = Annotated[Filters, Depends(search_filters)]
