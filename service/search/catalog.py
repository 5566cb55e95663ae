"""What the index holds, for readers and tools: every series with its posts, and one post with its headings."""

from __future__ import annotations

from service.schemas import HeadingOut, PostDetail, SeriesDetail, SeriesList, SeriesPostOut
from service.search.live import Live
from service.search.results import deep_link


def list_series(live: Live) -> SeriesList:
    """Every series with its title, URL, description and posts in reading order."""
    with live.version.reading():
        every = list(live.version.series.values())
        posts = live.version.fetch_posts(p for s in every for p in s.posts)
    series = [
        SeriesDetail(
            slug=s.slug, title=s.title, url=s.url, description=s.description,
            posts=[SeriesPostOut(path=p, title=posts[p].title, url=posts[p].url, date=posts[p].date)
                   for p in s.posts if p in posts],
        )
        for s in every
    ]
    return SeriesList(series=series, count=len(series))


def post_detail(live: Live, path: str) -> PostDetail:
    """One post's metadata and the headings of its passages (with how many passages each holds)."""
    with live.version.reading():
        post = live.post(path)
        found = live.version.fetch_passages(live.version.passages_by_post.get(post.path, ()))
    headings: dict[tuple[str, str], int] = {}
    for passage in found.values():
        headings[(passage.heading, passage.anchor)] = headings.get((passage.heading, passage.anchor), 0) + 1
    return PostDetail(
        path=post.path, title=post.title, url=post.url, section=post.section, series=list(post.series),
        tags=list(post.tags), categories=list(post.categories), date=post.date, lastmod=post.lastmod,
        description=post.description, aliases=list(post.aliases), duplicate_of=post.duplicate_of,
        headings=[HeadingOut(heading=h, anchor=a, url=deep_link(post.url, a), passages=n)
                  for (h, a), n in headings.items()],
    )
