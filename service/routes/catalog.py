"""GET /api/series and GET /api/posts/{path}: what the index holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.deps import LiveDep
from service.routes import json_response
from service.schemas import HeadingOut, PostDetail, SeriesDetail, SeriesList, SeriesPostOut
from service.search import deep_link

router = APIRouter(tags=["catalog"])


@router.get("/api/series", response_model=SeriesList)
def list_series(request: Request, live: LiveDep) -> Response:
    """Every series with its title, URL, description and posts in reading order."""
    version = live.catalog.version
    with version.reading():
        every = list(version.series.values())
        posts = version.fetch_posts(p for s in every for p in s.posts)
    series = [
        SeriesDetail(
            slug=s.slug, title=s.title, url=s.url, description=s.description,
            posts=[SeriesPostOut(path=p, title=posts[p].title, url=posts[p].url, date=posts[p].date)
                   for p in s.posts if p in posts],
        )
        for s in every
    ]
    return json_response(request, SeriesList(series=series, count=len(series)))


@router.get("/api/posts/{path:path}", response_model=PostDetail)
def get_post(request: Request, path: str, live: LiveDep) -> Response:
    """One post's metadata and the headings of its passages."""
    post = live.catalog.post(path)
    headings: dict[tuple[str, str], int] = {}
    found = live.catalog.version.fetch_passages(live.catalog.passages_by_post.get(post.path, ()))
    for passage in found.values():
        headings[(passage.heading, passage.anchor)] = headings.get((passage.heading, passage.anchor), 0) + 1
    return json_response(request, PostDetail(
        path=post.path, title=post.title, url=post.url, section=post.section, series=list(post.series),
        tags=list(post.tags), categories=list(post.categories), date=post.date, lastmod=post.lastmod,
        description=post.description, aliases=list(post.aliases), duplicate_of=post.duplicate_of,
        headings=[HeadingOut(heading=h, anchor=a, url=deep_link(post.url, a), passages=n)
                  for (h, a), n in headings.items()],
    ))
