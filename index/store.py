"""What a store is, and what every store does the same way.

Three narrow interfaces: `Store` (the versions: open the published one, roll back, prune), `StoreWriter`
(what only the holder of the write lock gets: write a version, publish one, keep the model) and
`IndexReader` (one opened version). The service, the author tools and the ranking read an index only
through these, so they never know whether it lives in a folder (`index/folder.py`, everything in memory)
or in PostgreSQL (`index/pg/`, nothing of the corpus in the service's memory beyond bounded caches).
`index/location.py` picks one from a location. `IndexBuild` is what an ingest hands a writer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.embedder import Precision
from index.errors import IndexMissing
from index.features import RelatedInputs
from index.manifest import Manifest
from index.records import Hit, Passage, PostMeta, SeriesMeta, SkippedPost
from index.scope import Filters, PassageWithin, Scope

KEEP_VERSIONS = 5  # a publish prunes all but the newest five (and the published one)


@dataclass(frozen=True, kw_only=True)
class IndexBuild:
    """Everything one ingest produced, ready to be written as a version."""

    manifest: Manifest
    posts: list[PostMeta]
    series: list[SeriesMeta]
    passages: list[Passage]
    embed_keys: list[str]  # per passage: hash of model + embedded text, so the next ingest can reuse it
    vectors: np.ndarray
    lexical_texts: list[str]  # per passage: what BM25 indexes
    post_texts: list[str]  # per post, in `posts` order: the whole post, for post-level BM25
    skipped: list[SkippedPost]


class PassageTable(Protocol):
    """Passages by id (0..n-1)."""

    def __getitem__(self, passage_id: int, /) -> Passage: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Passage]: ...


class DenseIndex(Protocol):
    """Nearest passages to a query vector."""

    @property
    def count(self) -> int: ...
    def search(self, vector: np.ndarray, k: int, within: PassageWithin | None = None) -> list[Hit]: ...
    def all_vectors(self) -> np.ndarray: ...
    def prepare(self) -> None: ...


class TermIndex(Protocol):
    """BM25 over passages (or whole posts: then ids are post rows)."""

    @property
    def count(self) -> int: ...
    def knows(self, stem: str) -> bool: ...
    def holding(self, stems: Sequence[str], rows: Sequence[int]) -> list[set[str]]: ...
    def document_frequency(self, stems: Iterable[str]) -> dict[str, int]: ...
    def search(self, query: str, k: int, within: PassageWithin | None = None) -> list[Hit]: ...
    def search_terms(self, terms: Mapping[str, float], k: int,
                     within: PassageWithin | None = None) -> list[Hit]: ...


class RelatedByStore(Protocol):
    """A version that computes related posts' inputs itself, instead of handing its whole corpus over."""

    def related_inputs(self, path: str) -> RelatedInputs:
        """The post's evidence about every candidate."""
    def related_evidence(self, paths: Sequence[str]) -> dict[str, tuple[tuple[Passage, ...], np.ndarray]]:
        """Each post's evidence passages and their vectors."""


class IndexReader(Protocol):
    """One opened version: what ranking, answers, related posts and the routes read."""

    @property
    def manifest(self) -> Manifest: ...
    @property
    def posts(self) -> Mapping[str, PostMeta]: ...
    @property
    def series(self) -> Mapping[str, SeriesMeta]: ...
    @property
    def passages(self) -> PassageTable: ...
    @property
    def vectors(self) -> DenseIndex: ...
    @property
    def lexical(self) -> TermIndex: ...
    @property
    def post_lexical(self) -> TermIndex: ...
    @property
    def passages_by_post(self) -> Mapping[str, tuple[int, ...]]: ...
    @property
    def evidence_by_post(self) -> Mapping[str, tuple[int, ...]]:
        """A post's passages without its navigation lists (all of them when it has nothing else)."""
    @property
    def by_url_path(self) -> Mapping[str, str]:
        """Post path by normalised URL path or alias (`scope.norm_url_path`)."""
    @property
    def related_by_store(self) -> RelatedByStore | None:
        """The store's own computation of related posts' evidence (PostgreSQL, in SQL), or None when the reader
        derives it from the whole version in memory."""
    @property
    def boilerplate(self) -> frozenset[str]:
        """Sentence openings the blog repeats across posts (`text.repeated_openings`): never answer text."""

    def scope(self, filters: Filters) -> Scope | None:
        """What a search with these filters may return; None when no filter is set."""
    def fetch_passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        """Several passages at once (one round trip for a database)."""
    def fetch_posts(self, paths: Iterable[str]) -> dict[str, PostMeta]:
        """The posts among `paths` (unknown paths are left out)."""
    def fetch_series(self, slugs: Iterable[str]) -> dict[str, SeriesMeta]:
        """The series among `slugs` (unknown slugs are left out)."""
    def post_paths(self, rows: Sequence[int]) -> list[str]:
        """The paths of posts by row (whole-post BM25 returns rows)."""
    def lead_passage(self, path: str) -> int | None:
        """A post's first passage that is not navigation (where answers find its summary)."""
    def vocabulary(self) -> Counter[str]:
        """The words spelling correction may suggest, with their counts (see index/spelling.py)."""
    def reading(self) -> AbstractContextManager[None]:
        """Hold what one request reads through (a database connection), so its queries share it."""


class StoreWriter(Protocol):
    """What the holder of a store's write lock may do; only `Store.lock` hands one out."""

    def write(self, build: IndexBuild) -> str:
        """Write a complete new version beside the others, not yet published; its id."""
    def publish(self, version: str) -> None:
        """Make a complete version the one every reader opens, then prune the oldest."""
    def keep_model(self, model: str, files: Mapping[str, Path], precision: Precision = "fp32") -> None:
        """Keep the model's serving files (name -> file) with the index, so servers need no PyTorch."""


class Store(Protocol):
    """Index versions: open the published one, list them, roll back, prune; `lock` for the one writer."""

    def published(self) -> str | None: ...
    def versions(self) -> list[str]: ...
    def manifest(self, version: str | None = None) -> Manifest: ...
    def open(self, version: str | None = None) -> IndexReader: ...
    def lock(self, wait_seconds: float = 0.0) -> AbstractContextManager[StoreWriter]:
        """Hold the write lock for the block: `with store.lock() as writer:`; a second writer waits, then fails."""
    def rollback(self, to: str | None = None, wait_seconds: float = 0.0) -> tuple[str, str | None]: ...
    def reusable_vectors(self, model: str, precision: Precision) -> dict[str, np.ndarray]: ...
    def skipped(self, version: str | None = None) -> list[SkippedPost]: ...
    def model_path(self, model: str, precision: Precision = "fp32") -> Path | None:
        """A local folder of the model's serving files that ingest kept with the index, or None."""
    def prune(self, keep: int) -> None: ...
    def close(self) -> None: ...


def roll_back(store: Store, to: str | None = None, wait_seconds: float = 0.0) -> tuple[str, str | None]:
    """Publish `to`, or the newest version older than the published one, under the store's lock; (new, old).

    The version is opened first, so one this code cannot read is refused before anyone is sent to it.
    """
    with store.lock(wait_seconds) as writer:
        current = store.published()
        if to is None:
            older = [v for v in store.versions() if current is None or v < current]
            if not older:
                raise IndexMissing(f"{store}: no version older than {current} to roll back to")
            to = older[-1]
        store.open(to)
        writer.publish(to)
    return to, current
