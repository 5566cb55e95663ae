"""The records stored in an index and handed between stages: plain frozen dataclasses and tuples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

PassageKind = Literal["text", "code", "table", "faq", "nav"]  # nav: mostly links to other posts


@dataclass(frozen=True)
class SeriesMeta:
    """A series: its hub page (`series/<slug>/_index.md`) and its posts in reading order."""

    slug: str
    title: str
    url: str
    description: str
    hub_path: str | None  # content-relative path of the hub, None when the series has no _index.md
    posts: tuple[str, ...]  # content-relative paths, ordered by weight, then date, then path


@dataclass(frozen=True)
class PostMeta:
    """One published page: everything search, filters and related posts need, without its body."""

    path: str  # relative to the content folder, posix: "series/alipay-double-11/phase-2-architecture.md"
    title: str
    url: str  # absolute public URL, as Hugo publishes it
    section: str  # first folder under content/ ("posts", "series", "radar"); "" for root pages
    series: tuple[str, ...]  # series slugs; a hub belongs to its own series
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    date: str | None  # ISO 8601 date "2026-05-02", None when absent
    lastmod: str | None
    description: str
    weight: int
    aliases: tuple[str, ...]  # URL paths that also lead here
    is_hub: bool  # a section/series landing page (_index.md)
    content_hash: str  # sha256 of the file bytes; what --check and incremental ingest compare
    links: tuple[str, ...]  # internal URL paths this post links to ("/series/x/y/"), for "linked"
    duplicate_of: str | None = None  # path of the post this one nearly copies; search shows one


@dataclass(frozen=True)
class Passage:
    """A token-sized piece of one section of one post; its row number is its vector id."""

    id: int
    post_path: str
    heading: str  # heading path "Architecture > Cell routing"; "" before the first heading
    anchor: str  # Hugo auto heading id of the innermost heading; "" before the first heading
    text: str  # clean readable text, what is shown, snippeted and lexically scored
    kind: PassageKind  # code/table passages can be weighted differently by ranking
    n_tokens: int  # tiktoken count of `text`


@dataclass(frozen=True)
class SkippedPost:
    """A post ingest could not read: where, and why (shown as `path:line: reason`)."""

    path: str  # relative to the content folder
    line: int | None  # 1-based line of the problem, None when it concerns the whole file
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.line else f"{self.path}: {self.reason}"


class Hit(NamedTuple):
    """One search result of a single retriever: a passage id and that retriever's score.

    A named tuple, not a frozen dataclass: a query makes hundreds, and a frozen dataclass is
    five times slower to create.
    """

    passage_id: int
    score: float
    coverage: float = 1.0  # lexical hits: share of the query's term weight the passage matches
