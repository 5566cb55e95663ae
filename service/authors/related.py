"""Related posts: the posts an author would link to from a post, from a few general signals.

Each candidate gets one value per signal (`SIGNALS`), all on comparable 0..1 scales, and its score is
a logistic model over them: the weights were fitted to the links authors made on half of the real
blog's posts, the signals chosen by cross-validation on them (`bench/related_fit.py`, bench/QUALITY.md
experiments R and R2). A post's own links are never a signal for its own list; they only set `linked`.

What the signals are computed from (`RelatedInputs`) comes from a `RelatedSpace`: `PassageSpace`
derives it in memory from a whole version (the folder store's service, and the author tools on any
store); `StoreSpace` asks the store, which for PostgreSQL computes it in SQL from features kept
beside the version (`index/features.py`), so a service never holds the corpus for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index import PostMeta
from index.features import (
    LinkGraph,
    RelatedInputs,
    Vocabulary,
    about_stems,
    candidates,
    day_number,
    inbound_counts,
    post_names,
    post_stems,
    post_text,
    related_evidence,
    series_templates,
)
from index.features import linked_paths as resolve_links
from index.records import Passage
from index.store import RelatedByStore
from service.schemas import RelatedOut, RelatedResponse
from service.search.live import Live

# The signals, in the order of the columns `signals` returns and of `LinkModel.weights`.
SIGNALS = ("passages", "series", "neighbour", "previous", "names", "description", "inbound", "best_pair",
           "section_inbound", "section_share", "series_inbound")
REASON_PAIRS = 20  # best-matching pairs looked at to find one whose texts differ


@dataclass(frozen=True)
class LinkModel:
    """A logistic model over the signals: score = 1 / (1 + exp(-(weights · signals + intercept)))."""

    weights: tuple[float, ...]  # one per name in SIGNALS
    intercept: float

    def scores(self, values: np.ndarray) -> np.ndarray:
        """The model's score of each row of signal values."""
        scores: np.ndarray = 1 / (1 + np.exp(-(values @ np.asarray(self.weights) + self.intercept)))
        return scores


# Fitted by bench/related_fit.py on ../shared/eval/related_dev.jsonl, the signals chosen by cross-validation
# on it (bench/QUALITY.md, experiment R2).
MODEL = LinkModel(weights=(2.23, 0.89, 3.68, 1.43, 9.03, 2.89, 1.8, 5.84, 3.85, 4.27, 9.88), intercept=-14.75)


@dataclass(frozen=True)
class RelatedPost:
    """A candidate link target with its evidence."""

    post: PostMeta
    score: float  # 0..1: how strongly the signals say the author would link it
    signals: dict[str, float]  # each signal's value, for people tuning or reading the ranking
    linked: bool  # the source already links here; reported, never used to rank
    source_heading: str
    target_heading: str
    pair_cosine: float  # cosine of the best matching pair of (non-template) sections


@dataclass(frozen=True)
class Evidence:
    """A post's evidence passages and their vectors, for finding the best matching pair of sections."""

    passages: tuple[Passage, ...]
    vectors: np.ndarray  # one row per passage


class RelatedSpace(Protocol):
    """Where related posts get the candidates' evidence from."""

    def inputs(self, source: PostMeta) -> RelatedInputs:
        """The source's evidence about every candidate."""

    def pair_block(self, inputs: RelatedInputs, source: PostMeta,
                   target: str) -> tuple[np.ndarray, Sequence[Passage], Sequence[Passage]]:
        """Cosines of the source's evidence passages (rows) with the target's (columns), and those passages."""


class PassageSpace:
    """What related posts derive from one whole index version in memory, built once per version."""

    def __init__(self, live: Live) -> None:
        self.live = live
        version = live.version
        posts = dict(version.posts)
        passages = list(version.passages)  # ids are 0..n-1: one read of every passage, whatever the store
        self.passages = passages
        self.templates = series_templates(posts, version.series.values(), version.passages_by_post, passages)
        self.evidence = related_evidence(version.evidence_by_post, self.templates)
        self.paths = candidates(posts.values(), self.evidence)
        self.row = {path: j for j, path in enumerate(self.paths)}
        ids = [pid for p in self.paths for pid in self.evidence[p]]
        self.order = np.array(ids, dtype=np.int64)
        self.sizes = np.array([len(self.evidence[p]) for p in self.paths], dtype=np.int64)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.int64)
        self.by_id = version.vectors.all_vectors()
        # Candidate passages as columns, in candidate order (reduceat takes per-post sums); stored
        # transposed and contiguous, which makes the one big product per request a third faster.
        self.columns = np.ascontiguousarray(self.by_id[self.order].T)
        self.parts = {slug: [p for p in s.posts if p in self.row] for slug, s in version.series.items()}
        texts = {p: post_text(passages, self.evidence.get(p, ())) for p in posts}
        self.names = {p: post_names(posts[p], texts[p]) for p in posts}
        self.stems = {p: post_stems(posts[p], texts[p]) for p in posts}
        self.name_sets = Vocabulary([self.names[p] for p in self.paths])
        self.name_matrix = self.name_sets.matrix([self.names[p] for p in self.paths])
        self.stem_sets = Vocabulary([self.stems[p] for p in self.paths])
        # What each candidate says it is about: its title and description, weighted by rarity in whole posts.
        self.about = self.stem_sets.matrix([about_stems(posts[p]) for p in self.paths])
        self.name_weight = self.name_matrix @ self.name_sets.idf
        self.promised = self.about @ self.stem_sets.idf
        self.days = np.array([day_number(posts[p].date) for p in self.paths], dtype=np.float64)
        self.links = {p.path: resolve_links(p, version.by_url_path) for p in posts.values()}
        inbound = inbound_counts(self.paths, self.links)
        self.inbound = np.array([inbound[p] for p in self.paths], dtype=np.float64)
        self.graph = LinkGraph([posts[p] for p in self.paths], self.links)

    def similarities(self, source: PostMeta) -> np.ndarray:
        """Cosine of each of the source's evidence passages (rows) with each candidate passage (columns)."""
        ids = list(self.evidence.get(source.path, ()))
        similarities: np.ndarray = self.by_id[ids] @ self.columns
        return similarities

    def inputs(self, source: PostMeta) -> RelatedInputs:
        """The source's evidence about every candidate, from the matrices built once."""
        sims = self.similarities(source)
        coverage = best = np.zeros(len(self.paths))
        if len(sims):
            # How much of the candidate the source covers: the mean over the candidate's sections of their
            # best match in the source. A source that covers what the candidate is about links to it.
            matched = sims.max(axis=0)
            coverage = np.add.reduceat(matched, self.starts) / self.sizes
            best = np.maximum.reduceat(matched, self.starts)
        found = self.name_sets.weights(self.names[source.path])
        peers = self.graph.peers(source)
        return RelatedInputs(
            paths=self.paths, coverage=coverage, best=best, shared_names=self.name_matrix @ found,
            name_weight=self.name_weight, source_name_weight=float(found.sum()),
            said=self.about @ self.stem_sets.weights(self.stems[source.path]), promised=self.promised,
            inbound=self.inbound, days=self.days,
            section_inbound=peers.section_inbound, section_share=peers.section_share,
            series_inbound=peers.series_inbound,
            parts={slug: self.parts.get(slug, []) for slug in source.series},
            links=frozenset(self.links.get(source.path, set())), sims=sims)

    def pair_block(self, inputs: RelatedInputs, source: PostMeta,
                   target: str) -> tuple[np.ndarray, Sequence[Passage], Sequence[Passage]]:
        """The slice of the source's similarities that covers the target's passages."""
        j = self.row[target]
        start, size = self.starts[j], self.sizes[j]
        sims = inputs.sims if inputs.sims is not None else self.similarities(source)
        return (sims[:, start:start + size], [self.passages[i] for i in self.evidence.get(source.path, ())],
                [self.passages[int(i)] for i in self.order[start:start + size]])


class StoreSpace:
    """Related posts from a store that computes the candidates' evidence itself (PostgreSQL, in SQL)."""

    def __init__(self, version: RelatedByStore) -> None:
        self.version = version

    def inputs(self, source: PostMeta) -> RelatedInputs:
        """Asked of the store: one aggregate query over the candidates."""
        return self.version.related_inputs(source.path)

    def pair_block(self, inputs: RelatedInputs, source: PostMeta,
                   target: str) -> tuple[np.ndarray, Sequence[Passage], Sequence[Passage]]:
        """The two posts' evidence passages and vectors, read for this pair only."""
        found = self.version.related_evidence([source.path, target])
        source_passages, source_vectors = found.get(source.path, ((), np.zeros((0, 1), np.float32)))
        target_passages, target_vectors = found.get(target, ((), np.zeros((0, 1), np.float32)))
        if not len(source_passages) or not len(target_passages):
            return np.zeros((len(source_passages), len(target_passages))), source_passages, target_passages
        return source_vectors @ target_vectors.T, source_passages, target_passages


def related_space(live: Live) -> RelatedSpace:
    """The store's own SQL when it computes related posts itself, else the whole version in memory.

    One per version: the service asks `live.derived(related_space)`, and builds it before the version serves.
    """
    by_store = live.version.related_by_store
    return StoreSpace(by_store) if by_store is not None else PassageSpace(live)


def signal_values(inputs: RelatedInputs, source: PostMeta) -> np.ndarray:
    """One row per candidate (`inputs.paths`), one column per name in SIGNALS, each within 0..1."""
    values = np.zeros((len(inputs.paths), len(SIGNALS)), dtype=np.float64)
    values[:, 0] = np.clip(inputs.coverage, 0.0, 1.0)
    row = {path: j for j, path in enumerate(inputs.paths)}
    for slug in source.series:
        parts = inputs.parts.get(slug, [])
        if source.path not in parts:
            continue
        here = parts.index(source.path)
        for there, path in enumerate(parts):
            j = row[path]
            values[j, 1] = 1.0
            values[j, 2] = max(values[j, 2], float(abs(there - here) == 1))  # the part before or after
            values[j, 3] = max(values[j, 3], float(there == here - 1))  # the part this one builds on
    shared = inputs.shared_names
    smaller = np.minimum(inputs.name_weight, inputs.source_name_weight)
    values[:, 4] = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    said, promised = inputs.said, inputs.promised
    values[:, 5] = np.divide(said, promised, out=np.zeros_like(said), where=promised > 0)
    # Other articles linking here: the posts this author keeps pointing readers to. The source's own
    # links are not counted, so they never rank its own list.
    inbound = inputs.inbound.astype(np.float64, copy=True)
    if source.path in row:
        own = [row[t] for t in inputs.links if t in row and t != source.path]
        inbound[own] -= 1
    scale = math.log1p(len(inputs.paths))
    values[:, 6] = np.log1p(inbound) / scale
    values[:, 7] = np.clip(inputs.best, 0.0, 1.0)
    # What the source's peers link to: the other articles of its section (standalone posts link other
    # standalone posts; series parts link out to standalone ones more than to other series) and the
    # other parts of its series. `LinkGraph.peers` leaves the source's own links out.
    values[:, 8] = np.log1p(inputs.section_inbound) / scale
    values[:, 9] = inputs.section_share
    values[:, 10] = np.log1p(inputs.series_inbound) / scale
    return values


def signals(space: RelatedSpace, source: PostMeta) -> np.ndarray:
    """The signal values of every candidate of `space` for one source post."""
    return signal_values(space.inputs(source), source)


def related_posts(live: Live, space: RelatedSpace, path: str, k: int,
                  model: LinkModel = MODEL) -> list[RelatedPost]:
    """The k posts the author would most likely link from `path`, excluding it and its near-copies."""
    with live.version.reading():
        source = live.post(path)
        inputs = space.inputs(source)
        values = signal_values(inputs, source)
        scores = model.scores(values)
        out: list[RelatedPost] = []
        groups: set[str] = set()
        # Best first; equal scores go to the newer post, then the path, so the order never depends on chance.
        order = sorted(range(len(inputs.paths)), key=lambda j: (-scores[j], -inputs.days[j], inputs.paths[j]))
        batch = max(4 * k, 16)  # targets read per round trip: a few are skipped as near-copies
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            posts = live.version.fetch_posts([inputs.paths[j] for j in chunk])
            for j in chunk:
                target = posts[inputs.paths[j]]
                group = target.duplicate_of or target.path
                if same_group(source, target) or group in groups:
                    continue  # one post per near-duplicate group, as search does
                groups.add(group)
                row = dict(zip(SIGNALS, (round(float(v), 4) for v in values[j]), strict=True))
                out.append(_with_reason(space, inputs, source, target, round(float(scores[j]), 4), row))
                if len(out) == k:
                    return out
        return out


def same_group(source: PostMeta, target: PostMeta) -> bool:
    """The target is the source itself or one of its near-duplicates."""
    return (target.duplicate_of or target.path) == (source.duplicate_of or source.path) \
        or target.path == source.duplicate_of or target.duplicate_of == source.path


def linked_paths(live: Live, post: PostMeta) -> set[str]:
    """Content paths of the posts this post links to (URL paths and aliases resolved)."""
    return resolve_links(post, live.version.by_url_path)


def _with_reason(space: RelatedSpace, inputs: RelatedInputs, source: PostMeta, target: PostMeta, score: float,
                 values: dict[str, float]) -> RelatedPost:
    """Attach the best matching pair of sections whose texts differ (the same text is a shared footer)."""
    heading = target_heading = ""
    cosine = 0.0
    block, source_passages, target_passages = space.pair_block(inputs, source, target.path)
    if block.size:
        pairs = [tuple(int(x) for x in np.unravel_index(int(i), block.shape))
                 for i in np.argsort(-block, axis=None)[:REASON_PAIRS]]
        row, col = next(((r, c) for r, c in pairs if source_passages[r].text != target_passages[c].text), pairs[0])
        heading, target_heading = source_passages[row].heading, target_passages[col].heading
        cosine = round(float(block[row, col]), 4)
    return RelatedPost(post=target, score=score, signals=values, linked=target.path in inputs.links,
                       source_heading=heading, target_heading=target_heading, pair_cosine=cosine)


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
