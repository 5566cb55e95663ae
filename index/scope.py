"""Filters and the scope a version builds from them: which passages and posts a filtered search may return.

Ranking never looks inside a `Scope`: it hands `scope.passages` to the passage retrievers and
`scope.posts` to whole-post BM25, and each store reads the form it built. The folder store keeps
Python sets of ids (its corpus is in memory anyway); PostgreSQL returns the matching posts' rows and
their passage id ranges (a post's passages are numbered consecutively), so a filter that keeps half of
a million passages costs two arrays as long as the posts it keeps, never a set of passage ids.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

import numpy as np

from index.records import PostMeta

# A filter keeping at most this many passages (or a 50th of the version) is scanned exactly, in every store: cheap
# for so few, and an approximate index (graph or lists) would have to visit most of itself to find them.
EXACT_UP_TO = 10_000
EXACT_SHARE = 50


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


def matches(post: PostMeta, f: Filters) -> bool:
    """Whether a post satisfies every condition of the filters."""
    if f.series and f.series not in post.series:
        return False
    if f.section and post.section != f.section:
        return False
    if f.tag and f.tag.lower() not in (t.lower() for t in post.tags):
        return False
    if f.since and (post.date or "") < f.since:
        return False
    return not (f.until and (post.date is None or post.date > f.until))


@dataclass(frozen=True)
class PassageRanges:
    """Passages as ranges of ids, one per matching post: [starts[i], ends[i]); `rows` are the posts' rows."""

    rows: np.ndarray  # int64, ascending
    starts: np.ndarray  # int64, ascending (posts' passages are numbered in post order)
    ends: np.ndarray

    @property
    def count(self) -> int:
        """How many passages the ranges hold."""
        return int((self.ends - self.starts).sum())

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """A boolean mask: which of `ids` fall in one of the ranges."""
        at = np.searchsorted(self.starts, ids, side="right") - 1
        inside = at >= 0
        inside[inside] = ids[inside] < self.ends[at[inside]]
        return inside

    def ids(self) -> np.ndarray:
        """Every passage id in the ranges (for a store that wants them listed)."""
        if not len(self.starts):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(s, e, dtype=np.int64) for s, e in zip(self.starts, self.ends, strict=True)])


class RowSet(Collection[int]):
    """A sorted array of ids that answers membership for many ids at once (`mask`)."""

    def __init__(self, ids: np.ndarray) -> None:
        self.array = np.asarray(ids, dtype=np.int64)

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int | np.integer):
            return False
        at = int(np.searchsorted(self.array, item))
        return at < len(self.array) and int(self.array[at]) == item

    def __iter__(self) -> Iterator[int]:
        return iter(self.array.tolist())

    def __len__(self) -> int:
        return len(self.array)

    def mask(self, ids: np.ndarray) -> np.ndarray:
        """Which of `ids` are in the set."""
        return np.isin(ids, self.array)


# What a passage retriever accepts as `within`: the folder's ids, or PostgreSQL's ranges.
PassageWithin = Collection[int] | PassageRanges


@dataclass(frozen=True)
class Scope:
    """What a filtered search may return, in the form the version that built it reads."""

    passages: PassageWithin
    posts: Collection[int]  # rows of the matching posts (positions in the version's post order)


def keeps(within: PassageWithin, ids: np.ndarray) -> np.ndarray:
    """A boolean mask: which of `ids` a `within` holds, whichever form it has."""
    if isinstance(within, PassageRanges):
        return within.contains(ids)
    if isinstance(within, RowSet):
        return within.mask(ids)
    return np.isin(ids, np.fromiter(within, dtype=np.int64))


def scans_exactly(kept: int, total: int) -> bool:
    """Whether a filter keeping `kept` of a version's `total` passages is searched by an exact scan of them."""
    return kept <= max(EXACT_UP_TO, total // EXACT_SHARE)


def passage_ids(within: PassageWithin) -> Collection[int]:
    """The ids of a `within`, whichever form it has."""
    return within.ids().tolist() if isinstance(within, PassageRanges) else within


def norm_url_path(path: str) -> str:
    """A URL path as posts are looked up by it: lower-case, one leading and one trailing slash."""
    return "/" + path.strip("/").lower() + "/" if path.strip("/") else "/"
