"""Related posts: the posts an author would link to from a post, from a few general signals.

Each candidate gets one value per signal (`SIGNALS`), all on comparable 0..1 scales, and its score is
a logistic model over them: the weights were fitted to the links authors made on half of the real
blog's posts and checked on the other half (`bench/related_fit.py`, bench/QUALITY.md experiment R).
A post's own links are never a signal for its own list; they only set `linked`.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy import sparse

from index import PostMeta
from index.text import idf, names, term_stems
from service.catalog import Catalog, UnknownName
from service.schemas import RelatedOut, RelatedResponse

# The signals, in the order of the columns `signals` returns and of `LinkModel.weights`.
SIGNALS = ("passages", "series", "neighbour", "previous", "names", "description", "inbound")
# A section whose heading recurs in at least this share of a series' parts (and in three or more)
# is the series' template (an "Operational Checklist" differing in a word): no evidence, no reason.
TEMPLATE_SHARE = 0.5
TEMPLATE_MIN_PARTS = 3
REASON_PAIRS = 20  # best-matching pairs looked at to find one whose texts differ
_WORDS = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class LinkModel:
    """A logistic model over the signals: score = 1 / (1 + exp(-(weights · signals + intercept)))."""

    weights: tuple[float, ...]  # one per name in SIGNALS
    intercept: float

    def scores(self, values: np.ndarray) -> np.ndarray:
        """The model's score of each row of signal values."""
        scores: np.ndarray = 1 / (1 + np.exp(-(values @ np.asarray(self.weights) + self.intercept)))
        return scores


# Fitted by bench/related_fit.py on one half of ../shared/eval/related_dev.jsonl (bench/QUALITY.md).
MODEL = LinkModel(weights=(6.75, 2.07, 3.16, 1.11, 9.64, 2.85, 9.99), intercept=-12.28)


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


class PassageSpace:
    """What related posts derive from one index version, built once (see `Live.passage_space`).

    Candidates are the articles an author links between: not hubs (series navigation links those),
    not root pages (menus link those).
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        version = catalog.version
        posts = version.posts
        self.templates = series_templates(catalog)
        self.evidence = {path: _without(ids, self.templates) for path, ids in catalog.evidence_by_post.items()}
        self.paths = sorted(p.path for p in posts.values() if not p.is_hub and p.section and self.evidence.get(p.path))
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
        texts = {p: " ".join(version.passages[i].text for i in self.evidence.get(p, ())) for p in posts}
        # Tags are names the author chose; the text adds the products, companies and tools it mentions.
        self.names = {p: frozenset(t.lower() for t in posts[p].tags)
                      | names(f"{posts[p].title}. {posts[p].description}. {texts[p]}") for p in posts}
        self.stems = {p: frozenset(term_stems(f"{posts[p].title} {posts[p].description} {texts[p]}")) for p in posts}
        self.name_sets = _Vocabulary([self.names[p] for p in self.paths])
        self.name_matrix = self.name_sets.matrix([self.names[p] for p in self.paths])
        self.stem_sets = _Vocabulary([self.stems[p] for p in self.paths])
        # What each candidate says it is about: its title and description, weighted by rarity in whole posts.
        self.about = self.stem_sets.matrix([term_stems(f"{posts[p].title} {posts[p].description}")
                                            for p in self.paths])
        self.days = np.array([_ordinal(posts[p].date) for p in self.paths], dtype=np.float64)
        self.links = {p.path: linked_paths(catalog, p) for p in posts.values()}
        # Counted from articles only: hubs and menus link everything within their reach.
        inbound = Counter(t for p in self.paths for t in self.links[p] if t != p)
        self.inbound = np.array([inbound[p] for p in self.paths], dtype=np.float64)

    def similarities(self, source: PostMeta) -> np.ndarray:
        """Cosine of each of the source's evidence passages (rows) with each candidate passage (columns)."""
        ids = list(self.evidence.get(source.path, ()))
        similarities: np.ndarray = self.by_id[ids] @ self.columns
        return similarities


def signals(space: PassageSpace, source: PostMeta, sims: np.ndarray | None = None) -> np.ndarray:
    """One row per candidate (`space.paths`), one column per name in SIGNALS, each within 0..1."""
    values = np.zeros((len(space.paths), len(SIGNALS)), dtype=np.float64)
    sims = space.similarities(source) if sims is None else sims
    if len(sims):
        # How much of the candidate the source covers: the mean over the candidate's sections of their
        # best match in the source. A source that covers what the candidate is about links to it.
        values[:, 0] = np.clip(np.add.reduceat(sims.max(axis=0), space.starts) / space.sizes, 0.0, 1.0)
    for slug in source.series:
        parts = space.parts.get(slug, [])
        if source.path not in parts:
            continue
        here = parts.index(source.path)
        for there, path in enumerate(parts):
            j = space.row[path]
            values[j, 1] = 1.0
            values[j, 2] = max(values[j, 2], float(abs(there - here) == 1))  # the part before or after
            values[j, 3] = max(values[j, 3], float(there == here - 1))  # the part this one builds on
    found = space.name_sets.weights(space.names[source.path])
    shared = space.name_matrix @ found
    smaller = np.minimum(space.name_matrix @ space.name_sets.idf, found.sum())
    values[:, 4] = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    said = space.about @ space.stem_sets.weights(space.stems[source.path])
    promised = space.about @ space.stem_sets.idf
    values[:, 5] = np.divide(said, promised, out=np.zeros_like(said), where=promised > 0)
    # Other articles linking here: the posts this author keeps pointing readers to. The source's own
    # links are not counted, so they never rank its own list.
    inbound = space.inbound.copy()
    if source.path in space.row:
        own = [space.row[t] for t in space.links.get(source.path, ()) if t in space.row and t != source.path]
        inbound[own] -= 1
    values[:, 6] = np.log1p(inbound) / math.log1p(len(space.paths))
    return values


def related_posts(catalog: Catalog, space: PassageSpace, path: str, k: int,
                  model: LinkModel = MODEL) -> list[RelatedPost]:
    """The k posts the author would most likely link from `path`, excluding it and its near-copies."""
    source = catalog.post(path)
    sims = space.similarities(source)
    values = signals(space, source, sims)
    scores = model.scores(values)
    posts = catalog.version.posts
    linked = space.links.get(source.path, set())
    out: list[RelatedPost] = []
    groups: set[str] = set()
    # Best first; equal scores go to the newer post, then the path, so the order never depends on chance.
    for j in sorted(range(len(space.paths)), key=lambda j: (-scores[j], -space.days[j], space.paths[j])):
        target = posts[space.paths[j]]
        group = target.duplicate_of or target.path
        if same_group(source, target) or group in groups:
            continue  # one post per near-duplicate group, as search does
        groups.add(group)
        row = dict(zip(SIGNALS, (round(float(v), 4) for v in values[j]), strict=True))
        out.append(_with_reason(space, source, sims, j, target, round(float(scores[j]), 4), row,
                                target.path in linked))
        if len(out) == k:
            break
    return out


def series_templates(catalog: Catalog) -> frozenset[int]:
    """Passages under a heading that most parts of their series repeat (an "Operational Checklist")."""
    version = catalog.version
    found: set[int] = set()
    for series in version.series.values():
        parts = [p for p in series.posts if not version.posts[p].is_hub]
        if len(parts) < TEMPLATE_MIN_PARTS:
            continue
        by_heading: defaultdict[str, list[int]] = defaultdict(list)
        holders: Counter[str] = Counter()
        for part in parts:
            seen = set()
            for pid in catalog.passages_by_post.get(part, ()):
                key = _heading_key(version.passages[pid].heading)
                if key:
                    by_heading[key].append(pid)
                    seen.add(key)
            holders.update(seen)
        needed = max(TEMPLATE_MIN_PARTS, math.ceil(TEMPLATE_SHARE * len(parts)))
        found.update(pid for key, ids in by_heading.items() if holders[key] >= needed for pid in ids)
    return frozenset(found)


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


def _with_reason(space: PassageSpace, source: PostMeta, sims: np.ndarray, j: int, target: PostMeta, score: float,
                 values: dict[str, float], linked: bool) -> RelatedPost:
    """Attach the best matching pair of sections whose texts differ (the same text is a shared footer)."""
    passages = space.catalog.version.passages
    source_ids = space.evidence.get(source.path, ())
    target_ids = space.order[space.starts[j]:space.starts[j] + space.sizes[j]]
    heading = target_heading = ""
    cosine = 0.0
    if len(sims):
        block = sims[:, space.starts[j]:space.starts[j] + space.sizes[j]]
        pairs = [np.unravel_index(int(i), block.shape) for i in np.argsort(-block, axis=None)[:REASON_PAIRS]]
        row, col = next(((r, c) for r, c in pairs
                         if passages[source_ids[r]].text != passages[int(target_ids[c])].text), pairs[0])
        heading, target_heading = passages[source_ids[row]].heading, passages[int(target_ids[col])].heading
        cosine = round(float(block[row, col]), 4)
    return RelatedPost(post=target, score=score, signals=values, linked=linked, source_heading=heading,
                       target_heading=target_heading, pair_cosine=cosine)


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


def _without(ids: tuple[int, ...], templates: frozenset[int]) -> tuple[int, ...]:
    # A post made only of template sections keeps them: some evidence beats none.
    return tuple(i for i in ids if i not in templates) or ids


def _heading_key(heading: str) -> str:
    """The innermost heading in words only: "7. FAQ" and "FAQ", "Part 2 Checklist" and "Part 3 Checklist" match."""
    return " ".join(_WORDS.findall(heading.rsplit(" > ", 1)[-1].lower()))


class _Vocabulary:
    """Sets of words as rows of a sparse 0/1 matrix; each word weighs its rarity over the candidates (idf)."""

    def __init__(self, sets: Sequence[AbstractSet[str]]) -> None:
        self.column = {word: i for i, word in enumerate(sorted(set().union(*sets)))}
        frequency = np.asarray(self.matrix(sets).sum(axis=0)).ravel()
        self.idf = idf(len(sets), frequency)

    def matrix(self, sets: Sequence[AbstractSet[str]]) -> sparse.csr_matrix:
        """One row per set, a 1 in the column of each of its words the vocabulary knows."""
        rows = [i for i, words in enumerate(sets) for w in words if w in self.column]
        columns = [self.column[w] for words in sets for w in words if w in self.column]
        return sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(sets), len(self.column)))

    def weights(self, words: AbstractSet[str]) -> np.ndarray:
        """A dense vector holding the weight of each known word of `words`, zero elsewhere."""
        vector = np.zeros(len(self.column))
        known = [self.column[w] for w in words if w in self.column]
        vector[known] = self.idf[known]
        return vector


def _ordinal(day: str | None) -> float:
    try:
        return float(date.fromisoformat(day[:10]).toordinal()) if day else 0.0
    except ValueError:
        return 0.0
