"""Per-version lookups the handlers need: passages by post, filters as passage-id sets, URL → post."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from index import IndexVersion, PostMeta
from index.spelling import Speller
from service.sentences import repeated_openings
from service.snippets import WordForms


class UnknownName(LookupError):
    """A series, post path or URL that the index does not have (a 404 at the HTTP edge)."""


@dataclass(frozen=True, kw_only=True)
class Filters:
    """Optional narrowing of a search; all given conditions must hold."""

    series: str | None = None
    section: str | None = None
    tag: str | None = None
    since: str | None = None  # ISO date, inclusive
    until: str | None = None

    @property
    def active(self) -> bool:
        """Whether any condition is set."""
        return any((self.series, self.section, self.tag, self.since, self.until))


class Catalog:
    """An opened index version plus the derived lookups, built once when the version is loaded."""

    def __init__(self, version: IndexVersion, real_words: Collection[str] = frozenset()) -> None:
        """Args: real_words: words spelling leaves alone though the blog lacks them (the model's whole words)."""
        self.version = version
        by_post: defaultdict[str, list[int]] = defaultdict(list)
        for passage in version.passages:
            by_post[passage.post_path].append(passage.id)
        self.passages_by_post = {path: tuple(ids) for path, ids in by_post.items()}
        # What a post says itself: its navigation lists only repeat other posts' titles.
        self.evidence_by_post = {
            path: tuple(i for i in ids if version.passages[i].kind != "nav") or ids
            for path, ids in self.passages_by_post.items()
        }
        # Sentence openings the blog repeats across posts (a stock closing line, link titles): never answer text.
        self.boilerplate = repeated_openings(version.passages)
        # Every word the blog writes, so a mistyped query word can be read as the blog's word.
        headings = {p.heading for p in version.passages}
        self.speller = Speller.build(
            [*(p.title for p in version.posts.values()), *(p.description for p in version.posts.values()),
             *headings, *(p.text for p in version.passages)],
            version.lexical.knows, real_words)
        self.by_url_path: dict[str, str] = {}
        for post in version.posts.values():
            for alias in (urlsplit(post.url).path, *post.aliases):
                self.by_url_path.setdefault(_norm_path(alias), post.path)

    @cached_property
    def word_forms(self) -> WordForms:
        """The passages' words by stem, for snippets; built on first use, or by `prepare`."""
        return WordForms(p.text for p in self.version.passages)

    def prepare(self) -> None:
        """Build what searches use now (~0.4 s for the real blog), so the first search does not pay for it."""
        self.version.vectors.prepare()
        _ = self.word_forms

    def post(self, path: str) -> PostMeta:
        """The post at a content path, or UnknownName."""
        post = self.version.posts.get(path.strip("/"))
        if post is None:
            raise UnknownName(f"no post at path {path!r}")
        return post

    def post_by_url(self, url: str) -> PostMeta:
        """The post a public URL or alias leads to, or UnknownName."""
        path = self.by_url_path.get(_norm_path(urlsplit(url).path))
        if path is None:
            raise UnknownName(f"no post at URL {url!r}")
        return self.version.posts[path]

    def allowed(self, filters: Filters) -> tuple[set[int], set[int]] | None:
        """Passage ids and post rows (positions in post_order) that satisfy the filters; None when unfiltered."""
        if not filters.active:
            return None
        if filters.series and filters.series not in self.version.series:
            raise UnknownName(f"unknown series {filters.series!r}")
        passages: set[int] = set()
        rows: set[int] = set()
        for row, path in enumerate(self.version.post_order):
            if _matches(self.version.posts[path], filters):
                rows.add(row)
                passages.update(self.passages_by_post.get(path, ()))
        return passages, rows


def _matches(post: PostMeta, f: Filters) -> bool:
    if f.series and f.series not in post.series:
        return False
    if f.section and post.section != f.section:
        return False
    if f.tag and f.tag.lower() not in (t.lower() for t in post.tags):
        return False
    if f.since and (post.date or "") < f.since:
        return False
    return not (f.until and (post.date is None or post.date > f.until))


def _norm_path(path: str) -> str:
    return "/" + path.strip("/").lower() + "/" if path.strip("/") else "/"
