"""Query → ranked passages, posts and series: dense and BM25 retrieval fused, then rolled up."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from index import Hit, Passage, PostMeta, SeriesMeta
from index.store import IndexReader
from index.text import idf, query_terms
from service.search.live import Filters, Live
from service.search.query import Query

# Hits per retriever. Keyword questions need BM25's long tail (50 lexical hits cost 0.015 nDCG@10 on
# them); dense hits past 50 never changed a dev-set ranking (bench/QUALITY.md).
DENSE_CANDIDATES = 50
LEXICAL_CANDIDATES = 100
RRF_K = 60  # reciprocal-rank fusion constant from Cormack et al.; flattens the head of each list
PASSAGES_PER_POST = 3
# Code rarely answers a question in prose. Navigation keeps full weight: weighting it down cost
# 0.007 nDCG@10 on the dev set (bench/QUALITY.md); related posts leave it out instead.
KIND_WEIGHT = {"code": 0.8, "table": 0.95}
POST_DECAY = (1.0, 0.3)  # a post's score: its best passage, plus a little credit for a second one
SERIES_DECAY = (1.0, 0.6, 0.4, 0.3)  # a series' score: several matching parts beat one stray mention
# A post's weight in its series' score falls with its rank, not its raw score: fused scores are too
# flat for a sum of them to tell many weak parts from a few strong ones.
RANK_DECAY = 0.7
# Pseudo-relevance feedback for whole-post BM25: words shared by the best dense passages join the
# query at a lower weight, so a paraphrase also finds the posts that use the blog's own words for it.
# Only when no passage among the first lexical hits holds most of the query's own words: then those
# words are already the blog's, and borrowed ones only dilute them (bench/QUALITY.md, experiment 3).
FEEDBACK_BELOW_COVERAGE = 0.7  # any value from 0.5 to 0.9 scores within 0.006 nDCG@10; the middle
FEEDBACK_FIRST_HITS = 10  # the lexical hits checked for one that already covers the query
FEEDBACK_PASSAGES = 5
FEEDBACK_MIN_PASSAGES = 2  # a word must be in at least two of them: one passage's pet word is noise
FEEDBACK_TERMS = 8
FEEDBACK_WEIGHT = 0.5


# Named tuples rather than frozen dataclasses: one query creates hundreds of these (see index.records.Hit).
class ScoredPassage(NamedTuple):
    """A passage with its fused score and the two retrievers' raw scores and ranks."""

    passage: Passage
    score: float
    dense: float  # cosine similarity, 0 when the dense retriever did not return it
    lexical: float  # BM25 score, 0 when the lexical retriever did not return it
    dense_rank: int = 0  # 1-based place in the dense hits; 0 when not among them
    lexical_rank: int = 0  # 1-based place in the BM25 hits; 0 when not among them


class ScoredPost(NamedTuple):
    """A post ranked by its passages' evidence."""

    post: PostMeta
    score: float
    passages: tuple[ScoredPassage, ...]


class ScoredSeries(NamedTuple):
    """A series ranked by its matching posts; `posts` are those posts in reading order."""

    series: SeriesMeta
    score: float
    posts: tuple[str, ...]


_by_score = attrgetter("score")
_MISSED = (0.0, 0)  # score and rank of a passage a retriever did not return


@dataclass(frozen=True)
class Ranking:
    """Everything one search returns, best first."""

    passages: list[ScoredPassage]
    posts: list[ScoredPost]
    series: list[ScoredSeries]
    query: Query  # what was ranked: the query as typed, or with its spelling corrected
    feedback: tuple[str, ...] = ()  # stems borrowed from the best dense passages for whole-post BM25
    whole_post_ranks: Mapping[str, int] = field(default_factory=dict)  # post path -> 1-based place in it


def rank(live: Live, query: Query, query_vector: np.ndarray, filters: Filters, k: int) -> Ranking:
    """Run the retrievers within the filters, fuse them, and roll passages up into posts and series."""
    version = live.version
    scope = live.scope(filters)
    within = scope.passages if scope is not None else None
    terms = dict.fromkeys(query.terms, 1.0)
    dense = version.vectors.search(query_vector, DENSE_CANDIDATES, within=within)
    lexical = version.lexical.search_terms(terms, LEXICAL_CANDIDATES, within=within)
    found = version.fetch_passages(dict.fromkeys([h.passage_id for h in dense] + [h.passage_id for h in lexical]))
    scored = fuse(found, dense, lexical)
    borrowed: dict[str, float] = {}
    if max((h.coverage for h in lexical[:FEEDBACK_FIRST_HITS]), default=0.0) < FEEDBACK_BELOW_COVERAGE:
        borrowed = feedback_terms(version, query, dense, found)
    post_hits = version.post_lexical.search_terms(terms | borrowed, LEXICAL_CANDIDATES,
                                                  scope.posts if scope is not None else None)
    whole_posts = version.post_paths([h.passage_id for h in post_hits])
    posts = rank_posts(version.fetch_posts([*whole_posts, *(s.passage.post_path for s in scored)]), scored,
                       whole_posts)
    # none from a hidden near-duplicate, and a post's navigation only when nothing it says matched
    passages = [s for p in posts for s in shown_passages(p.passages)[:PASSAGES_PER_POST]]
    passages.sort(key=_by_score, reverse=True)
    return Ranking(
        passages=passages[:k],
        posts=posts[:k],
        series=rank_series(version.fetch_series({slug: None for p in posts for slug in p.post.series}), posts)[:k],
        query=query,
        feedback=tuple(borrowed),
        whole_post_ranks={path: position + 1 for position, path in enumerate(whole_posts)},
    )


def shown_passages(hits: tuple[ScoredPassage, ...]) -> tuple[ScoredPassage, ...]:
    """A post's matching passages to show, best first: its content, or its navigation when only that matched.

    A "← Series hub ← Prev • Next →" line or a series' list of contents names other posts; it tells a
    reader nothing about this one, so it is never the excerpt when the post's own text also matched.
    """
    content = tuple(s for s in hits if s.passage.kind != "nav")
    return content or hits


def feedback_terms(version: IndexReader, query: Query, dense: list[Hit],
                   passages: Mapping[int, Passage] | None = None) -> dict[str, float]:
    """The stems most typical of the top dense passages that the query lacks, with their weight."""
    own = query.stems
    top = [hit.passage_id for hit in dense[:FEEDBACK_PASSAGES]]
    found = passages if passages is not None else version.fetch_passages(top)
    texts = [found[i].text for i in top]
    seen = Counter(t for text in texts for t in set(query_terms(text)))
    shared = {t: n for t, n in seen.items() if n >= FEEDBACK_MIN_PASSAGES and t not in own}
    frequency = version.lexical.document_frequency(shared)
    count = version.lexical.count
    typical = {t: n * idf(count, frequency[t]) for t, n in shared.items() if frequency[t]}
    best = sorted(typical, key=lambda t: (-typical[t], t))[:FEEDBACK_TERMS]  # ties by word: the same in every process
    return dict.fromkeys(best, FEEDBACK_WEIGHT)


def fuse(passages: Mapping[int, Passage], dense: list[Hit], lexical: list[Hit]) -> list[ScoredPassage]:
    """Reciprocal-rank fusion of the two hit lists, weighted by passage kind."""
    fused: defaultdict[int, float] = defaultdict(float)
    cosine: dict[int, tuple[float, int]] = {}
    bm25: dict[int, tuple[float, int]] = {}
    for rank_, hit in enumerate(dense):
        fused[hit.passage_id] += 1 / (RRF_K + rank_ + 1)
        cosine[hit.passage_id] = (hit.score, rank_ + 1)
    for rank_, hit in enumerate(lexical):
        # A lexical hit counts in proportion to how much of the query it matches.
        fused[hit.passage_id] += hit.coverage / (RRF_K + rank_ + 1)
        bm25[hit.passage_id] = (hit.score, rank_ + 1)
    scored = []
    for i, s in fused.items():
        cosine_, dense_rank = cosine.get(i, _MISSED)
        bm25_, lexical_rank = bm25.get(i, _MISSED)
        scored.append(ScoredPassage(passages[i], s * KIND_WEIGHT.get(passages[i].kind, 1.0), cosine_, bm25_,
                                    dense_rank, lexical_rank))
    scored.sort(key=_by_score, reverse=True)
    return scored


def rank_posts(posts: Mapping[str, PostMeta], scored: list[ScoredPassage], whole_posts: list[str]) -> list[ScoredPost]:
    """Posts by their passages' evidence fused with BM25 over whole posts; one post per near-duplicate group.

    Whole-post BM25 sees a post's vocabulary at once, which wins on questions whose words are spread
    over several sections; passage evidence wins on paraphrases. Rank fusion keeps both.
    """
    by_post: defaultdict[str, list[ScoredPassage]] = defaultdict(list)
    for s in scored:
        by_post[s.passage.post_path].append(s)
    evidence = {path: post_score(hits) for path, hits in by_post.items()}
    by_passages = sorted(evidence, key=evidence.__getitem__, reverse=True)
    fused: defaultdict[str, float] = defaultdict(float)
    for ranking in (by_passages, whole_posts):
        for position, path in enumerate(ranking):
            fused[path] += 1 / (RRF_K + position + 1)
    seen: set[str] = set()
    unique = []
    for path in sorted(fused, key=fused.__getitem__, reverse=True):
        post = posts[path]
        group = post.duplicate_of or path
        if group not in seen:
            seen.add(group)
            unique.append(ScoredPost(post, fused[path], tuple(by_post.get(path, ()))))
    return unique


def post_score(hits: list[ScoredPassage]) -> float:
    """A post's score from its passages' scores, best first."""
    return sum([w * s.score for w, s in zip(POST_DECAY, hits, strict=False)])


def rank_series(series: Mapping[str, SeriesMeta], ranked: list[ScoredPost]) -> list[ScoredSeries]:
    """Series by the evidence of their posts (hubs count for their own series)."""
    by_series: defaultdict[str, list[tuple[int, ScoredPost]]] = defaultdict(list)
    for position, post in enumerate(ranked):
        for slug in post.post.series:
            if slug in series:
                by_series[slug].append((position, post))
    result = []
    for slug, members in by_series.items():
        score = sum(w * RANK_DECAY**position for w, (position, _) in zip(SERIES_DECAY, members, strict=False))
        matched = {p.post.path for _, p in members}
        order = [p for p in series[slug].posts if p in matched]
        result.append(ScoredSeries(series[slug], score, tuple(order)))
    result.sort(key=_by_score, reverse=True)
    return result
