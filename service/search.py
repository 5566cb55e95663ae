"""The search use case: one query with filters → SearchResponse, cached per index version."""

from __future__ import annotations

import time

from index.text import query_words
from service.catalog import Filters
from service.ranking import Ranking, ScoredPassage, rank
from service.schemas import FoundByOut, PassageOut, PostOut, SearchResponse, SeriesOut, WhyOut
from service.snippets import snippet
from service.state import Live


def run_search(live: Live, query: str, filters: Filters, k: int, exact: bool = False) -> SearchResponse:
    """Search the live index; a repeated query with the same filters comes from the cache."""
    started = time.perf_counter()
    key = (query, filters, k, exact)
    cached = live.cache.get(key)
    if cached is None:
        with live.catalog.version.reading():  # a database store: one connection for the whole search
            cached = to_response(live, query, ranked(live, query, filters, k, exact))
        live.cache.put(key, cached)
    return cached.model_copy(update={"took_ms": round((time.perf_counter() - started) * 1000, 2)})


def ranked(live: Live, query: str, filters: Filters, k: int, exact: bool = False) -> Ranking:
    """Rank a query as searched: misspelt words corrected against the index (unless `exact`), then both retrievers.

    The model reads the corrected text too: a typo splits a word into pieces it cannot place.
    """
    text = query if exact else live.catalog.speller.correct(query).text
    return rank(live.catalog, text, live.embed_query(text), filters, k)


def to_response(live: Live, query: str, ranking: Ranking) -> SearchResponse:
    """Turn a ranking into the public response shape."""
    searched = ranking.query or query
    return SearchResponse(
        query=query,
        corrected_query=searched if searched != query else None,
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
    words = query_words(ranking.query)
    marked = live.catalog.word_forms.marked(ranking.query)
    # What BM25 indexed for each passage (its text under its post title and headings) holds these stems.
    held = live.catalog.version.lexical.holding([stem for _, stem in words], [s.passage.id for s in ranking.passages])
    out = []
    for i, (scored, stems) in enumerate(zip(ranking.passages, held, strict=True)):
        passage = scored.passage
        post = live.catalog.version.posts[passage.post_path]
        out.append(PassageOut(
            rank=i + 1, score=round(scored.score, 6), path=post.path, title=post.title,
            url=deep_link(post.url, passage.anchor), heading=passage.heading, series=list(post.series),
            text=passage.text, snippet=snippet(passage.text, marked),
            why=why(scored, ranking, [word for word, stem in words if stem in stems]),
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
