"""GET /api/series and GET /api/posts/{path}: what the index holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.http.deps import LiveDep
from service.http.routes import json_response
from service.schemas import PostDetail, SeriesList
from service.search import catalog

router = APIRouter(tags=["catalog"])


@router.get("/api/series", response_model=SeriesList)
def list_series(request: Request, live: LiveDep) -> Response:
    """Every series with its title, URL, description and posts in reading order."""
    return json_response(request, catalog.list_series(live))


@router.get("/api/posts/{path:path}", response_model=PostDetail)
def get_post(request: Request, path: str, live: LiveDep) -> Response:
    """One post's metadata and the headings of its passages."""
    return json_response(request, catalog.post_detail(live, path))
