"""Related posts from passage-level evidence: how many of this post's sections another post matches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index import PostMeta
from service.catalog import Catalog, UnknownName
from service.schemas import RelatedOut, RelatedResponse

SERIES_BONUS = 0.05  # shared series and tags only break near-ties; the text decides
TAG_BONUS, TAG_BONUS_MAX = 0.02, 0.04
REASON_PAIRS = 20  # best-matching pairs looked at to find one whose texts differ


@dataclass(frozen=True)
class RelatedPost:
    """A candidate link target with its evidence."""

    post: PostMeta
    score: float
    similarity: float  # mean over the source's passages of their best cosine in this post
    linked: bool  # the source already links here; reported, never used to rank
    source_heading: str
    target_heading: str
    pair_cosine: float  # cosine of that best matching pair of passages


class PassageSpace:
    """Every passage vector of one index version, columns grouped by post for per-post maxima."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.paths = sorted(catalog.evidence_by_post)
        ids = [pid for p in self.paths for pid in catalog.evidence_by_post[p]]
        self.order = np.array(ids, dtype=np.int64)
        sizes = [len(catalog.evidence_by_post[p]) for p in self.paths]
        self.starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self.by_id = catalog.version.vectors.all_vectors()
        self.grouped = self.by_id[self.order]  # rows in post order, so reduceat can take per-post maxima

    def best_per_post(self, source_ids: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Per source passage and post: the best cosine (m × posts) and the full similarity rows."""
        sims = self.by_id[list(source_ids)] @ self.grouped.T
        return np.maximum.reduceat(sims, self.starts, axis=1), sims


def related_posts(catalog: Catalog, space: PassageSpace, path: str, k: int) -> list[RelatedPost]:
    """The k posts whose passages best match the source post's passages, excluding it and its near-copies."""
    source = catalog.post(path)
    source_ids = catalog.evidence_by_post.get(source.path, ())
    if not source_ids:
        return []
    best, sims = space.best_per_post(source_ids)
    similarity = best.mean(axis=0)
    posts = catalog.version.posts
    scored = [(float(similarity[j]) + bonus(source, posts[p]), j) for j, p in enumerate(space.paths)
              if not same_group(source, posts[p])]
    scored.sort(key=lambda t: -t[0])
    linked = linked_paths(catalog, source)
    out: list[RelatedPost] = []
    groups: set[str] = set()
    for score, j in scored:
        target = posts[space.paths[j]]
        group = target.duplicate_of or target.path
        if group in groups:
            continue  # one post per near-duplicate group, as search does
        groups.add(group)
        out.append(_with_reason(catalog, space, source_ids, sims, j, target, score, float(similarity[j]),
                                target.path in linked))
        if len(out) == k:
            break
    return out


def bonus(source: PostMeta, target: PostMeta) -> float:
    """Small credit for a shared series and shared tags."""
    series = SERIES_BONUS if set(source.series) & set(target.series) else 0.0
    tags = {t.lower() for t in source.tags} & {t.lower() for t in target.tags}
    return series + min(TAG_BONUS * len(tags), TAG_BONUS_MAX)


def same_group(source: PostMeta, target: PostMeta) -> bool:
    """The target is the source itself or one of its near-duplicates."""
    return (target.duplicate_of or target.path) == (source.duplicate_of or source.path) \
        or target.path == source.duplicate_of or target.duplicate_of == source.path


def linked_paths(catalog: Catalog, post: PostMeta) -> set[str]:
    """Content paths of the posts this post links to (URL paths and aliases resolved)."""
    paths = set()
    for link in post.links:
        try:
            paths.add(catalog.post_by_url(link).path)
        except UnknownName:
            continue  # a link to a page outside the index (tag list, external redirect)
    return paths


def _with_reason(catalog: Catalog, space: PassageSpace, source_ids: tuple[int, ...], sims: np.ndarray, j: int,
                 target: PostMeta, score: float, similarity: float, linked: bool) -> RelatedPost:
    start = int(space.starts[j])
    end = start + len(catalog.evidence_by_post[target.path])
    block = sims[:, start:end]
    passages = catalog.version.passages
    pairs = [np.unravel_index(int(i), block.shape) for i in np.argsort(-block, axis=None)[:REASON_PAIRS]]
    # The same text in both posts is a template they share (a checklist, a footer), not a reason to link.
    row, col = next(((r, c) for r, c in pairs
                     if passages[source_ids[r]].text != passages[int(space.order[start + c])].text), pairs[0])
    return RelatedPost(
        post=target, score=round(score, 4), similarity=round(similarity, 4), linked=linked,
        source_heading=passages[source_ids[row]].heading,
        target_heading=passages[int(space.order[start + col])].heading,
        pair_cosine=round(float(sims[row, start + col]), 4),
    )


def reason(related: RelatedPost) -> str:
    """The best matching pair of sections in words, for people."""
    return (f"“{related.source_heading or 'introduction'}” ↔ “{related.target_heading or 'introduction'}” "
            f"(cosine {related.pair_cosine:.2f})")


def to_response(source: PostMeta, found: list[RelatedPost], took_ms: float) -> RelatedResponse:
    """The public shape of a related-posts list, for /api/related and `casebook related --json`."""
    return RelatedResponse(
        path=source.path, title=source.title, url=source.url, count=len(found), took_ms=took_ms,
        related=[RelatedOut(path=r.post.path, title=r.post.title, url=r.post.url, series=list(r.post.series),
                            score=r.score, linked=r.linked, reason=reason(r)) for r in found],
    )
