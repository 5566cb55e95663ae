"""`Live`: one served index version and everything derived from it, dropped together when it is swapped out."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable
from functools import cached_property
from typing import TypeVar, cast
from urllib.parse import urlsplit

import numpy as np

from index import Embedder, ModelUnavailable, PostMeta
from index.cache import Lru
from index.scope import Filters, Scope, norm_url_path
from index.spelling import Speller
from index.store import IndexReader
from service.schemas import AnswerResponse, SearchResponse
from service.search.snippets import WordForms

__all__ = ["Filters", "Live", "UnknownName"]

Derived = TypeVar("Derived")
QUERY_VECTORS = 4096  # a query's vector is kept this long: the page asks the same text again as it pages and filters
# The model reads a query up to this many tokens (its window is 256). The judged questions need at most 40
# (p50 22); 64 holds any of them with room, and a long paste costs a quarter of the full window
# (docs/production.md, "Cost per request"). BM25 still reads every word.
QUERY_TOKENS = 64
# What a cached response weighs: ~3 KiB for each passage, post, series or citation it holds (tracemalloc on
# the real blog: 76 KiB for k=10, 330 KiB for k=50).
BYTES_PER_RESULT = 3 * 1024


class UnknownName(LookupError):
    """A series, post path or URL that the index does not have (a 404 at the HTTP edge)."""


class Live:
    """One opened index version and what is derived from it; a request holds one for its whole life.

    The model is loaded on first use, so commands that only read stored vectors (related posts, cross-links)
    never load it; the service loads it, and everything else a search needs, in `prepare` before the version
    serves. What the answer and related-posts engines derive from a version lives here too (`derived`), so
    it goes when the version goes.
    """

    def __init__(self, version: IndexReader, load_embedder: Callable[[], Embedder] | None = None,
                 cache_bytes: int = 0) -> None:
        """Args: load_embedder: the version's model (its manifest names it), None for tools that never embed;
        cache_bytes: what the kept responses may weigh, searches and answers half each.

        Responses and query vectors are kept per asker (a client of the service; "" for commands): a response
        that comes back at once would otherwise tell a reader that someone else asked the same question.
        """
        self.version = version
        self._load_embedder = load_embedder
        self.searches: Lru[Hashable, SearchResponse] = Lru(cache_bytes // 2, weigh=response_bytes)
        self.answers: Lru[Hashable, AnswerResponse] = Lru(cache_bytes // 2, weigh=response_bytes)
        self.query_vectors: Lru[tuple[str, str], np.ndarray] = Lru(QUERY_VECTORS)
        self._derived: dict[Callable[[Live], object], object] = {}
        self._derived_lock = threading.Lock()

    @property
    def version_id(self) -> str:
        """The index version's id."""
        return self.version.manifest.version

    @cached_property
    def embedder(self) -> Embedder:
        """The model the version was built with."""
        if self._load_embedder is None:
            raise ModelUnavailable(f"version {self.version_id} was opened without its model")
        return self._load_embedder()

    @cached_property
    def _words(self) -> Counter[str]:
        return self.version.vocabulary()

    @cached_property
    def speller(self) -> Speller:
        """Every word the blog writes, so a mistyped query word can be read as the blog's word; the model's whole
        words are real words that spelling leaves alone though the blog lacks them."""
        return Speller(self._words, self.version.lexical.knows, self.embedder.whole_words())

    @cached_property
    def word_forms(self) -> WordForms:
        """The blog's words by stem, for marking a query's words in snippets."""
        return WordForms(self._words)

    @cached_property
    def series_slugs(self) -> frozenset[str]:
        """Every series of the version: what a series filter is checked against, without a round trip."""
        return frozenset(self.version.series)

    def prepare(self) -> None:
        """Do now what the first search would otherwise do: load the model, the speller, the vectors; and what the
        first answer would (the blog's boilerplate openings: seconds for a folder store past the real blog's size)."""
        _ = self.speller, self.word_forms, self.series_slugs, self.version.boilerplate
        self.version.vectors.prepare()

    def embed_query(self, text: str, asker: str = "") -> np.ndarray:
        """The query's vector (its first QUERY_TOKENS tokens), from the cache when this asker asked it before."""
        vector = self.query_vectors.get((asker, text))
        if vector is None:
            vector = self.embedder.encode([text], max_tokens=QUERY_TOKENS)[0]
            self.query_vectors.put((asker, text), vector)
        return vector

    def derived(self, make: Callable[[Live], Derived]) -> Derived:
        """What `make` derives from this version, made on first use and kept with the version (related posts'
        space, answers' parsed sentences): one of each per version, whoever asks first."""
        with self._derived_lock:
            if make not in self._derived:
                self._derived[make] = make(self)
            return cast(Derived, self._derived[make])

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
        return self.post(path)

    def check(self, filters: Filters) -> None:
        """Refuse a filter naming a series the version does not have (UnknownName)."""
        if filters.series and filters.series not in self.series_slugs:
            raise UnknownName(f"unknown series {filters.series!r}")

    def scope(self, filters: Filters) -> Scope | None:
        """What a search with these filters may return (None when unfiltered); an unknown series is UnknownName."""
        if not filters.active:
            return None
        self.check(filters)
        return self.version.scope(filters)


def response_bytes(response: SearchResponse) -> int:
    """About what a response holds in memory: its results, and the answer's citations."""
    results = len(response.passages) + len(response.posts) + len(response.series)
    return BYTES_PER_RESULT * (1 + results + len(getattr(response, "citations", ())))
