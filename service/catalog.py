"""Per-version lookups the handlers need: a post by path or URL, filters as a scope, the speller."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

from index import PostMeta
from index.scope import Filters, Scope, norm_url_path
from index.spelling import Speller
from index.store import IndexReader
from service.snippets import WordForms

__all__ = ["Catalog", "Filters", "UnknownName"]


class UnknownName(LookupError):
    """A series, post path or URL that the index does not have (a 404 at the HTTP edge)."""


class Catalog:
    """An opened index version plus the speller, built once when the version is loaded."""

    def __init__(self, version: IndexReader, real_words: Collection[str] = frozenset()) -> None:
        """Args: real_words: words spelling leaves alone though the blog lacks them (the model's whole words)."""
        self.version = version
        # Every word the blog writes, so a mistyped query word can be read as the blog's word.
        words = version.vocabulary()
        self.speller = Speller(words, version.lexical.knows, real_words)
        self.word_forms = WordForms(words)  # the same words by stem, for snippets
        # Sentence openings the blog repeats across posts (a stock closing line, link titles): never answer text.
        self.boilerplate = version.boilerplate

    @property
    def passages_by_post(self) -> Mapping[str, tuple[int, ...]]:
        """Each post's passage ids."""
        return self.version.passages_by_post

    @property
    def evidence_by_post(self) -> Mapping[str, tuple[int, ...]]:
        """What a post says itself: its passages without navigation lists (which only repeat other posts' titles)."""
        return self.version.evidence_by_post

    def post(self, path: str) -> PostMeta:
        """The post at a content path, or UnknownName."""
        post = self.version.fetch_posts([path.strip("/")]).get(path.strip("/"))
        if post is None:
            raise UnknownName(f"no post at path {path!r}")
        return post

    def post_by_url(self, url: str) -> PostMeta:
        """The post a public URL or alias leads to, or UnknownName."""
        path = self.version.by_url_path.get(norm_url_path(urlsplit(url).path))
        if path is None:
            raise UnknownName(f"no post at URL {url!r}")
        return self.version.posts[path]

    def scope(self, filters: Filters) -> Scope | None:
        """What a search with these filters may return (None when unfiltered); an unknown series is UnknownName."""
        if not filters.active:
            return None
        if filters.series and not self.version.fetch_series([filters.series]):
            raise UnknownName(f"unknown series {filters.series!r}")
        return self.version.scope(filters)
