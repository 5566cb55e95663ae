"""What related posts derive from a version, computed by the same functions for every store.

The folder store's service derives it in memory when related posts are first asked for
(`service/authors/related.py`, `PassageSpace`); the PostgreSQL store derives it once, when a version is
written, and keeps it in the version's tables, so a service answers related posts from SQL
(`index/pg/related.py`) without holding the corpus. Either way a post's evidence, names and stems
come from here, so both stores rank the same candidates on the same signals.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse

from index.records import Passage, PostMeta, SeriesMeta
from index.scope import norm_url_path
from index.text import idf, names, term_stems

# A section whose heading recurs in at least this share of a series' parts (and in three or more)
# is the series' template (an "Operational Checklist" differing in a word): no evidence, no reason.
TEMPLATE_SHARE = 0.5
TEMPLATE_MIN_PARTS = 3
_WORDS = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class RelatedInputs:
    """One source post's related-posts evidence about every candidate (articles, sorted by path).

    Each array has one value per candidate; `service/authors/related.py` turns them into the signals.
    """

    paths: list[str]
    coverage: np.ndarray  # mean over the candidate's evidence passages of their best cosine with the source's
    best: np.ndarray  # the best cosine of any of the candidate's evidence passages with any of the source's
    shared_names: np.ndarray  # sum of the idf of the names the candidate shares with the source
    name_weight: np.ndarray  # sum of the idf of the candidate's names
    source_name_weight: float  # sum of the idf of the source's names the candidates use
    said: np.ndarray  # idf of the candidate's title and description stems that the source holds
    promised: np.ndarray  # idf of all of the candidate's title and description stems
    inbound: np.ndarray  # articles linking to the candidate (the source's own links included)
    days: np.ndarray  # the candidate's date as a day number, 0 when it has none
    section_inbound: np.ndarray  # the other articles of the source's section that link to the candidate
    section_share: np.ndarray  # share of their links beyond their own series that reach the candidate's section
    series_inbound: np.ndarray  # the other parts of the source's series that link to the candidate
    parts: dict[str, list[str]]  # for each series of the source: the candidates among its parts, in order
    links: frozenset[str]  # content paths the source links to
    sims: np.ndarray | None = field(default=None, repr=False)  # in-memory stores: source x candidate passages


def is_article(post: PostMeta) -> bool:
    """A post an author links between: not a hub (series navigation links those), not a root page (menus do)."""
    return not post.is_hub and bool(post.section)


def heading_key(heading: str) -> str:
    """The innermost heading in words only: "7. FAQ" and "FAQ", "Part 2 Checklist" and "Part 3 Checklist" match."""
    return " ".join(_WORDS.findall(heading.rsplit(" > ", 1)[-1].lower()))


def evidence_by_post(passages: Iterable[Passage]) -> dict[str, tuple[int, ...]]:
    """Each post's passages without its navigation lists (all of them when it has nothing else)."""
    by_post: defaultdict[str, list[Passage]] = defaultdict(list)
    for passage in passages:
        by_post[passage.post_path].append(passage)
    return {path: tuple(p.id for p in group if p.kind != "nav") or tuple(p.id for p in group)
            for path, group in by_post.items()}


def series_templates(posts: Mapping[str, PostMeta], series: Iterable[SeriesMeta],
                     passages_by_post: Mapping[str, Sequence[int]], passages: Sequence[Passage]) -> frozenset[int]:
    """Passages under a heading that most parts of their series repeat (an "Operational Checklist")."""
    found: set[int] = set()
    for one in series:
        parts = [p for p in one.posts if not posts[p].is_hub]
        if len(parts) < TEMPLATE_MIN_PARTS:
            continue
        by_heading: defaultdict[str, list[int]] = defaultdict(list)
        holders: Counter[str] = Counter()
        for part in parts:
            seen = set()
            for pid in passages_by_post.get(part, ()):
                key = heading_key(passages[pid].heading)
                if key:
                    by_heading[key].append(pid)
                    seen.add(key)
            holders.update(seen)
        needed = max(TEMPLATE_MIN_PARTS, math.ceil(TEMPLATE_SHARE * len(parts)))
        found.update(pid for key, ids in by_heading.items() if holders[key] >= needed for pid in ids)
    return frozenset(found)


def related_evidence(evidence: Mapping[str, tuple[int, ...]], templates: frozenset[int]) -> dict[str, tuple[int, ...]]:
    """Each post's evidence for related posts: its evidence passages without series templates."""
    # A post made only of template sections keeps them: some evidence beats none.
    return {path: tuple(i for i in ids if i not in templates) or ids for path, ids in evidence.items()}


def candidates(posts: Iterable[PostMeta], evidence: Mapping[str, tuple[int, ...]]) -> list[str]:
    """The articles related posts may suggest, sorted by path."""
    return sorted(p.path for p in posts if is_article(p) and evidence.get(p.path))


def post_text(passages: Sequence[Passage], ids: Iterable[int]) -> str:
    """A post's evidence passages as one text."""
    return " ".join(passages[i].text for i in ids)


def post_names(post: PostMeta, text: str) -> frozenset[str]:
    """The names a post is about: its tags (names the author chose) and the products, companies, tools it mentions."""
    return frozenset(t.lower() for t in post.tags) | names(f"{post.title}. {post.description}. {text}")


def post_stems(post: PostMeta, text: str) -> frozenset[str]:
    """Every stem of a post's title, description and evidence."""
    return frozenset(term_stems(f"{post.title} {post.description} {text}"))


def about_stems(post: PostMeta) -> frozenset[str]:
    """What a post says it is about: the stems of its title and description."""
    return frozenset(term_stems(f"{post.title} {post.description}"))


def url_paths(posts: Iterable[PostMeta]) -> dict[str, str]:
    """Post path by normalised URL path and alias; the first post claiming a path keeps it."""
    found: dict[str, str] = {}
    for post in posts:
        for alias in (urlsplit(post.url).path, *post.aliases):
            found.setdefault(norm_url_path(alias), post.path)
    return found


def linked_paths(post: PostMeta, by_url_path: Mapping[str, str]) -> set[str]:
    """Content paths of the posts this post links to (URL paths and aliases resolved)."""
    # A link to a page outside the index (tag list, external redirect) resolves to nothing.
    return {path for link in post.links if (path := by_url_path.get(norm_url_path(urlsplit(link).path)))}


def inbound_counts(articles: Iterable[str], links: Mapping[str, AbstractSet[str]]) -> Counter[str]:
    """How many of the articles link to each post. Counted from articles only: hubs and menus link everything."""
    return Counter(t for p in articles for t in links.get(p, ()) if t != p)


@dataclass(frozen=True)
class PeerLinks:
    """Where a source's peers link, one value per article: its section's other articles, its series' other parts."""

    section_inbound: np.ndarray  # the other articles of the source's section linking to the article
    section_share: np.ndarray  # the share of their links beyond their own series that reaches the article's section
    series_inbound: np.ndarray  # the other parts of the source's series linking to the article


class LinkGraph:
    """The links between articles as arrays, built once per version, to read what a source's peers link to."""

    def __init__(self, articles: Sequence[PostMeta], links: Mapping[str, AbstractSet[str]]) -> None:
        self.row = {p.path: j for j, p in enumerate(articles)}
        pairs = [(self.row[p.path], self.row[t]) for p in articles for t in sorted(links.get(p.path, ()))
                 if t in self.row and t != p.path]
        self.linker = np.array([a for a, _ in pairs], dtype=np.int64)
        self.target = np.array([t for _, t in pairs], dtype=np.int64)
        series = [set(p.series) for p in articles]
        # Links between parts of one series are its navigation; the links that leave it say more.
        self.crossing = np.array([not series[a] & series[t] for a, t in pairs], dtype=bool)
        self.section_of = {name: i for i, name in enumerate(sorted({p.section for p in articles}))}
        self.section = np.array([self.section_of[p.section] for p in articles], dtype=np.int64)
        self.parts: defaultdict[str, list[int]] = defaultdict(list)
        for j, p in enumerate(articles):
            for slug in p.series:
                self.parts[slug].append(j)

    def peers(self, source: PostMeta) -> PeerLinks:
        """What the articles nearest the source link to, never counting the source's own links."""
        n = len(self.section)
        others = self.linker != self.row.get(source.path, -1)
        peer = others & (self.section[self.linker] == self.section_of.get(source.section, -1))
        is_sibling = np.zeros(n, dtype=bool)
        for slug in source.series:
            is_sibling[self.parts.get(slug, [])] = True
        crossing = np.bincount(self.section[self.target[peer & self.crossing]], minlength=len(self.section_of))
        if not crossing.sum():
            # No peer link leaves its series (a small blog, a section that links nothing): with no evidence
            # the links are taken to spread like the articles, not to miss every section, which would
            # score every candidate of such a blog as if its author never linked anything.
            crossing = np.bincount(self.section, minlength=len(self.section_of))
        share = crossing / crossing.sum()
        return PeerLinks(section_inbound=np.bincount(self.target[peer], minlength=n).astype(np.float64),
                         section_share=share[self.section],
                         series_inbound=np.bincount(self.target[others & is_sibling[self.linker]],
                                                    minlength=n).astype(np.float64))


def day_number(day: str | None) -> float:
    """A date as a day number (for ties: the newer post first); 0 when missing or unreadable."""
    try:
        return float(date.fromisoformat(day[:10]).toordinal()) if day else 0.0
    except ValueError:
        return 0.0


class Vocabulary:
    """Sets of words as rows of a sparse 0/1 matrix; each word weighs its rarity over the sets (idf)."""

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

    def idf_of(self) -> dict[str, float]:
        """Each word's weight."""
        return {word: float(self.idf[i]) for word, i in self.column.items()}


@dataclass(frozen=True)
class PostFeatures:
    """What a store keeps per post so that related posts need no other post's text at query time."""

    candidate: bool
    names: frozenset[str]
    about: frozenset[str]  # title and description stems (candidates only; empty otherwise)
    name_weight: float  # candidates: sum of the idf of its names
    about_weight: float  # candidates: sum of the idf of its about stems
    inbound: int
    day: float
    links: frozenset[str]


@dataclass(frozen=True)
class VersionFeatures:
    """Everything related posts derive from one version, for a store to keep beside it."""

    posts: dict[str, PostFeatures]
    evidence: frozenset[int]  # passage ids that are related-posts evidence
    name_idf: dict[str, float]  # over the candidates' names
    stem_idf: dict[str, float]  # over the candidates' stems


def version_features(posts: Mapping[str, PostMeta], series: Iterable[SeriesMeta],
                     passages: Sequence[Passage]) -> VersionFeatures:
    """Derive the related-posts features of a version from its records (what a store writes)."""
    by_post: defaultdict[str, list[int]] = defaultdict(list)
    for passage in passages:
        by_post[passage.post_path].append(passage.id)
    templates = series_templates(posts, series, by_post, passages)
    evidence = related_evidence(evidence_by_post(passages), templates)
    paths = candidates(posts.values(), evidence)
    texts = {p: post_text(passages, evidence.get(p, ())) for p in posts}
    name_sets = {p: post_names(posts[p], texts[p]) for p in posts}
    name_vocabulary = Vocabulary([name_sets[p] for p in paths])
    stem_vocabulary = Vocabulary([post_stems(posts[p], texts[p]) for p in paths])
    abouts = {p: about_stems(posts[p]) for p in paths}
    name_weights = name_vocabulary.matrix([name_sets[p] for p in paths]) @ name_vocabulary.idf
    about_weights = stem_vocabulary.matrix([abouts[p] for p in paths]) @ stem_vocabulary.idf
    by_url = url_paths(posts.values())
    links = {p: frozenset(linked_paths(post, by_url)) for p, post in posts.items()}
    inbound = inbound_counts(paths, links)
    row = {p: j for j, p in enumerate(paths)}
    features = {
        p: PostFeatures(candidate=p in row, names=name_sets[p], about=abouts.get(p, frozenset()),
                        name_weight=float(name_weights[row[p]]) if p in row else 0.0,
                        about_weight=float(about_weights[row[p]]) if p in row else 0.0,
                        inbound=inbound[p], day=day_number(post.date), links=links[p])
        for p, post in posts.items()
    }
    return VersionFeatures(posts=features, evidence=frozenset(i for ids in evidence.values() for i in ids),
                           name_idf=name_vocabulary.idf_of(), stem_idf=stem_vocabulary.idf_of())
