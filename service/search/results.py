"""The search use case: one query with filters -> SearchResponse, kept per index version."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from index.cache import Lru
from service.schemas import FoundByOut, PassageOut, PostOut, SearchResponse, SeriesOut, WhyOut
from service.search.live import Filters, Live
from service.search.query import Query, read_query
from service.search.ranking import Ranking, ScoredPassage, rank
from service.search.snippets import snippet

Response = TypeVar("Response", bound=SearchResponse)


def run_search(live: Live, query: str, filters: Filters, k: int, exact: bool = False,
               asker: str = "") -> SearchResponse:
    """Search the live index; the same asker's repeated query with the same filters comes from the version's
    cache (never another asker's: see `Live`)."""
    return kept(live.searches, (asker, query, filters, k, exact),
                lambda: search(live, query, filters, k, exact, asker))


def search(live: Live, query: str, filters: Filters, k: int, exact: bool = False, asker: str = "") -> SearchResponse:
    """Rank a query and shape the response, reading the version through one connection (a database store)."""
    with live.version.reading():
        return to_response(live, ranked(live, read_query(live, query, exact), filters, k, asker))


def kept(cache: Lru[Hashable, Response], key: Hashable, compute: Callable[[], Response]) -> Response:
    """A response from `cache`, or computed and kept there; `took_ms` is this request's time either way."""
    started = time.perf_counter()
    response = cache.get(key)
    if response is None:
        response = compute()
        cache.put(key, response)
    return response.model_copy(update={"took_ms": round((time.perf_counter() - started) * 1000, 2)})


def ranked(live: Live, query: Query, filters: Filters, k: int, asker: str = "") -> Ranking:
    """Rank a query as searched, by both retrievers; the model reads the searched (corrected) text."""
    return rank(live, query, live.embed_query(query.text, asker), filters, k)


def to_response(live: Live, ranking: Ranking) -> SearchResponse:
    """Turn a ranking into the public response shape."""
    return SearchResponse(
        query=ranking.query.typed,
        corrected_query=ranking.query.corrected,
        took_ms=0.0,
        passages=passages_out(live, ranking),
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


def passages_out(live: Live, ranking: Ranking) -> list[PassageOut]:
    """The ranked passages as JSON, each with its deep link, highlighted snippet and why it was found."""
    query = ranking.query
    marked = live.word_forms.marked(query.terms, query.text)
    # What BM25 indexed for each passage (its text under its post title and headings) holds these stems.
    held = live.version.lexical.holding(query.terms, [s.passage.id for s in ranking.passages])
    posts = live.version.fetch_posts({s.passage.post_path: None for s in ranking.passages})
    out = []
    for i, (scored, stems) in enumerate(zip(ranking.passages, held, strict=True)):
        passage = scored.passage
        post = posts[passage.post_path]
        out.append(PassageOut(
            rank=i + 1, score=round(scored.score, 6), path=post.path, title=post.title,
            url=deep_link(post.url, passage.anchor), heading=passage.heading, series=list(post.series),
            text=passage.text, snippet=snippet(passage.text, marked),
            why=why(scored, ranking, [word for word, stem in query.words if stem in stems]),
        ))
    return out


def why(scored: ScoredPassage, ranking: Ranking, matched: list[str]) -> WhyOut:
    """The query words a passage matched and the retrievers that found it, with its rank in each."""
    found = [FoundByOut(retriever="lexical", rank=scored.lexical_rank) if scored.lexical_rank else None,
             FoundByOut(retriever="semantic", rank=scored.dense_rank) if scored.dense_rank else None]
    post_rank = ranking.whole_post_ranks.get(scored.passage.post_path)
    if post_rank:
        found.append(FoundByOut(retriever="feedback" if ranking.feedback else "whole_post", rank=post_rank))
    return WhyOut(matched=matched, found_by=[f for f in found if f])


def deep_link(url: str, anchor: str) -> str:
    """The post URL with the section's heading id, when the passage sits under a heading."""
    return f"{url.split('#')[0]}#{anchor}" if anchor else url
