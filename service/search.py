"""The search use case: one query with filters → SearchResponse, cached per index version."""

from __future__ import annotations

import time
from collections.abc import Collection

from service.catalog import Filters
from service.ranking import Ranking, ScoredPassage, rank
from service.schemas import PassageOut, PostOut, SearchResponse, SeriesOut
from service.snippets import snippet
from service.state import Live


def run_search(live: Live, query: str, filters: Filters, k: int) -> SearchResponse:
    """Search the live index; a repeated query with the same filters comes from the cache."""
    started = time.perf_counter()
    key = (query, filters, k)
    cached = live.cache.get(key)
    if cached is None:
        ranking = rank(live.catalog, query, live.embed_query(query), filters, k)
        cached = to_response(live, query, ranking)
        live.cache.put(key, cached)
    return cached.model_copy(update={"took_ms": round((time.perf_counter() - started) * 1000, 2)})


def to_response(live: Live, query: str, ranking: Ranking) -> SearchResponse:
    """Turn a ranking into the public response shape."""
    marked = live.catalog.word_forms.marked(query)
    return SearchResponse(
        query=query,
        took_ms=0.0,
        passages=[passage_out(live, i + 1, s, marked) for i, s in enumerate(ranking.passages)],
        posts=[
            PostOut(path=p.post.path, title=p.post.title, url=p.post.url, series=list(p.post.series),
                    score=round(p.score, 6), date=p.post.date, section=p.post.section)
            for p in ranking.posts
        ],
        series=[
            SeriesOut(slug=s.series.slug, title=s.series.title, url=s.series.url, score=round(s.score, 6),
                      posts=list(s.posts))
            for s in ranking.series
        ],
    )


def passage_out(live: Live, rank_: int, scored: ScoredPassage, marked: Collection[str]) -> PassageOut:
    """One passage as JSON, with its deep link and a snippet with the `marked` words highlighted."""
    passage = scored.passage
    post = live.catalog.version.posts[passage.post_path]
    return PassageOut(
        rank=rank_, score=round(scored.score, 6), path=post.path, title=post.title,
        url=deep_link(post.url, passage.anchor), heading=passage.heading, series=list(post.series),
        text=passage.text, snippet=snippet(passage.text, marked),
    )


def deep_link(url: str, anchor: str) -> str:
    """The post URL with the section's heading id, when the passage sits under a heading."""
    return f"{url.split('#')[0]}#{anchor}" if anchor else url
