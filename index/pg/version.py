"""One PostgreSQL version as an `IndexReader`: every lookup is a query, kept in bounded caches.

A service process holds no copy of the corpus: posts, series, passages and postings are read when
a request needs them and kept in LRU caches of fixed size, so its memory is the same for a blog and
for a hundred blogs. The author tools may still read everything: iterating `posts`, `series` or
`passages` reads them all in one query each.
"""

from __future__ import annotations

import typing
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from index.cache import Lru
from index.features import RelatedInputs
from index.manifest import Manifest
from index.pg import related
from index.pg.db import Database
from index.pg.schema import version_schema
from index.pg.search import PgDense, PgTerms
from index.records import Passage, PostMeta, SeriesMeta
from index.scope import Filters, PassageRanges, RowSet, Scope

PASSAGE_CACHE = 10_000  # ~1.2 KB each: about 12 MB
POST_CACHE = 4_096
SERIES_CACHE = 1_024
SCOPE_CACHE = 32  # filters asked again (a section, a series) reuse their matching posts
SPELLING_WORDS = 100_000  # the most used words spelling may suggest (the real blog has 19,000)
Record = TypeVar("Record", PostMeta, SeriesMeta)


def from_json(record: type[Record], data: dict[str, Any]) -> Record:
    """A record from its JSON form (lists back into tuples)."""
    names, tuples = _fields(record)
    fields: dict[str, Any] = {name: tuple(value) if name in tuples else value
                              for name, value in data.items() if name in names}
    return record(**fields)


_FIELDS: dict[type[Any], tuple[frozenset[str], frozenset[str]]] = {}


def _fields(record: type[Any]) -> tuple[frozenset[str], frozenset[str]]:
    """A record type's field names and those holding tuples: read once per type (reading type hints costs ~50 us,
    which a search paid for every post it read)."""
    if record not in _FIELDS:
        hints = typing.get_type_hints(record)
        _FIELDS[record] = (frozenset(hints),
                           frozenset(name for name, hint in hints.items() if typing.get_origin(hint) is tuple))
    return _FIELDS[record]


@dataclass(frozen=True)
class PostRow:
    """A post with where its passages are."""

    row: int
    meta: PostMeta
    first: int
    count: int
    lead: int | None


class PostgresVersion:
    """A published (or named) version read from PostgreSQL."""

    def __init__(self, db: Database, version_id: int, manifest: Manifest) -> None:
        self.manifest = manifest
        self.db = db
        self.schema = s = version_schema(version_id)
        counts = manifest.counts
        self.posts = _Posts(self)
        self.series = _Series(self)
        self.passages = _Passages(self, counts.get("passages", 0))
        self.vectors = PgDense(db, s, counts.get("passages", 0))
        self.lexical = PgTerms(db, s, 0, counts.get("passages", 0))
        self.post_lexical = PgTerms(db, s, 1, counts.get("posts", 0))
        self.passages_by_post = _PostPassages(self, evidence=False)
        self.evidence_by_post = _PostPassages(self, evidence=True)
        self.by_url_path = _UrlPaths(self)
        self._post_rows: Lru[str, PostRow] = Lru(POST_CACHE)
        self._paths: Lru[int, str] = Lru(POST_CACHE * 4)
        self._series: Lru[str, SeriesMeta] = Lru(SERIES_CACHE)
        self._passages: Lru[int, Passage] = Lru(PASSAGE_CACHE)
        self._scopes: Lru[Filters, Scope] = Lru(SCOPE_CACHE)

    # --- records -------------------------------------------------------------------------------

    def post_rows(self, paths: Iterable[str]) -> dict[str, PostRow]:
        """Posts with their passage ranges, by path (unknown paths left out)."""
        def load(missing: list[str]) -> dict[str, PostRow]:
            rows = self.db.rows(f"SELECT row, meta, first_passage, passage_count, lead_passage "
                                f"FROM {self.schema}.posts WHERE path = ANY(%s)", (missing,))
            return {(p := _post_row(r)).meta.path: p for r in rows}

        found = self._post_rows.fetch(paths, load)
        self._paths.put_many({p.row: path for path, p in found.items()})
        return found

    def fetch_posts(self, paths: Iterable[str]) -> dict[str, PostMeta]:
        """The posts among `paths`."""
        return {path: p.meta for path, p in self.post_rows(paths).items()}

    def fetch_series(self, slugs: Iterable[str]) -> dict[str, SeriesMeta]:
        """The series among `slugs`."""
        def load(missing: list[str]) -> dict[str, SeriesMeta]:
            rows = self.db.rows(f"SELECT slug, meta FROM {self.schema}.series WHERE slug = ANY(%s)", (missing,))
            return {slug: from_json(SeriesMeta, meta) for slug, meta in rows}

        return self._series.fetch(slugs, load)

    def fetch_passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        """Several passages in one query (cached ones not asked again)."""
        def load(missing: list[int]) -> dict[int, Passage]:
            return {p.id: p for p in self._read_passages("WHERE p.id = ANY(%s)", (missing,))}

        return self._passages.fetch((int(i) for i in ids), load)

    def _read_passages(self, where: str, params: Sequence[Any]) -> list[Passage]:
        s = self.schema
        rows = self.db.rows(f"SELECT p.id, o.path, p.heading, p.anchor, p.text, p.kind, p.n_tokens FROM {s}.passages p "
                            f"JOIN {s}.posts o ON o.row = p.post_row {where} ORDER BY p.id", params)
        return [Passage(*row) for row in rows]

    def post_paths(self, rows: Sequence[int]) -> list[str]:
        """The paths of posts by row."""
        def load(missing: list[int]) -> dict[int, str]:
            return dict(self.db.rows(f"SELECT row, path FROM {self.schema}.posts WHERE row = ANY(%s)", (missing,)))

        found = self._paths.fetch((int(r) for r in rows), load)
        return [found[int(r)] for r in rows]

    def lead_passage(self, path: str) -> int | None:
        """A post's first passage that is not navigation, where answers find its summary."""
        post = self.post_rows([path]).get(path)
        return post.lead if post else None

    # --- search ------------------------------------------------------------------------------

    def scope(self, filters: Filters) -> Scope | None:
        """The matching posts' rows and passage ranges, found by one query on the posts table."""
        if not filters.active:
            return None

        def load(_: list[Filters]) -> dict[Filters, Scope]:
            rows = self.db.rows(
                f"SELECT row, first_passage, passage_count FROM {self.schema}.posts WHERE "
                "(%(series)s::text IS NULL OR %(series)s = ANY(series)) "
                "AND (%(section)s::text IS NULL OR section = %(section)s) "
                "AND (%(tag)s::text IS NULL OR %(tag)s = ANY(tags)) "
                "AND (%(since)s::text IS NULL OR coalesce(date, '') >= %(since)s COLLATE \"C\") "
                "AND (%(until)s::text IS NULL OR (date IS NOT NULL AND date <= %(until)s COLLATE \"C\")) "
                "ORDER BY row",
                {"series": filters.series or None, "section": filters.section or None,
                 "tag": filters.tag.lower() if filters.tag else None, "since": filters.since or None,
                 "until": filters.until or None})
            table = np.array(rows, dtype=np.int64).reshape(-1, 3)
            ranges = PassageRanges(table[:, 0], table[:, 1], table[:, 1] + table[:, 2])
            return {filters: Scope(passages=ranges, posts=RowSet(table[:, 0]))}

        return self._scopes.fetch([filters], load)[filters]

    @cached_property
    def boilerplate(self) -> frozenset[str]:
        """Sentence openings the blog repeats across posts, found when the version was written."""
        return frozenset(row[0] for row in self.db.rows(f"SELECT opening FROM {self.schema}.openings"))

    def vocabulary(self) -> Counter[str]:
        """The most used words of the version with their counts, in the order the blog first uses them."""
        rows = self.db.rows(f"SELECT word, count FROM {self.schema}.words WHERE rank <= %s ORDER BY seq",
                            (SPELLING_WORDS,))
        return Counter(dict(rows))

    def reading(self) -> AbstractContextManager[None]:
        """One connection for every query of a request."""
        return self.db.reading()

    @property
    def related_by_store(self) -> PostgresVersion:
        """This version: related posts' evidence is computed in SQL (index/pg/related.py), not in the service."""
        return self

    def related_inputs(self, path: str) -> RelatedInputs:
        """Related posts' evidence about every candidate, aggregated in SQL (index/pg/related.py)."""
        post = self.post_rows([path])[path]
        return related.inputs(self.db, self.schema, post.row, post.meta, self.fetch_series(post.meta.series))

    def related_evidence(self, paths: Sequence[str]) -> dict[str, tuple[tuple[Passage, ...], np.ndarray]]:
        """The related-posts evidence passages of a few posts, with their vectors."""
        rows = {p.row: path for path, p in self.post_rows(paths).items()}
        return related.evidence(self.db, self.schema, rows)


def _post_row(row: tuple[Any, ...]) -> PostRow:
    number, meta, first, count, lead = row
    return PostRow(int(number), from_json(PostMeta, meta), int(first), int(count), lead)


class _Posts(Mapping[str, PostMeta]):
    """Posts by path: looked up one query at a time (and cached); iterating reads them all in one query."""

    def __init__(self, version: PostgresVersion) -> None:
        self._v = version

    def __getitem__(self, path: str) -> PostMeta:
        return self._v.post_rows([path])[path].meta

    def __len__(self) -> int:
        return self._v.manifest.counts.get("posts", 0)

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._v.db.rows(f"SELECT path FROM {self._v.schema}.posts ORDER BY row")])

    def values(self) -> Any:  # a list, read in one query, rather than a view asking once per post
        return [from_json(PostMeta, r[0]) for r in self._v.db.rows(f"SELECT meta FROM {self._v.schema}.posts "
                                                                    "ORDER BY row")]


class _Series(Mapping[str, SeriesMeta]):
    """Series by slug, looked up and cached; iterating reads them all."""

    def __init__(self, version: PostgresVersion) -> None:
        self._v = version

    def __getitem__(self, slug: str) -> SeriesMeta:
        return self._v.fetch_series([slug])[slug]

    def __len__(self) -> int:
        return self._v.manifest.counts.get("series", 0)

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._v.db.rows(f"SELECT slug FROM {self._v.schema}.series ORDER BY slug")])

    def values(self) -> Any:  # one query, as for posts
        return [from_json(SeriesMeta, r[0]) for r in self._v.db.rows(f"SELECT meta FROM {self._v.schema}.series "
                                                                     "ORDER BY slug")]


class _Passages:
    """Passages by id, fetched and cached; iterating reads every passage (author tools only)."""

    def __init__(self, version: PostgresVersion, count: int) -> None:
        self._v = version
        self._count = count

    def __getitem__(self, passage_id: int) -> Passage:
        found = self._v.fetch_passages([passage_id])
        if passage_id not in found:
            raise IndexError(f"no passage {passage_id}")
        return found[passage_id]

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Passage]:
        return iter(self._v._read_passages("", ()))


class _PostPassages(Mapping[str, tuple[int, ...]]):
    """A post's passage ids (all, or its evidence: without navigation lists unless that is all it has)."""

    def __init__(self, version: PostgresVersion, evidence: bool) -> None:
        self._v = version
        self._evidence = evidence

    def __getitem__(self, path: str) -> tuple[int, ...]:
        post = self._v.post_rows([path]).get(path)
        if post is None or not post.count:
            raise KeyError(path)
        ids = tuple(range(post.first, post.first + post.count))
        if not self._evidence:
            return ids
        passages = self._v.fetch_passages(ids)
        return tuple(i for i in ids if passages[i].kind != "nav") or ids

    def __len__(self) -> int:
        return int(self._v.db.rows(f"SELECT count(*) FROM {self._v.schema}.posts WHERE passage_count > 0")[0][0])

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._v.db.rows(f"SELECT path FROM {self._v.schema}.posts "
                                                   "WHERE passage_count > 0 ORDER BY row")])


class _UrlPaths(Mapping[str, str]):
    """Post path by normalised URL path or alias, one query per look-up."""

    def __init__(self, version: PostgresVersion) -> None:
        self._v = version
        self._cache: Lru[str, str | None] = Lru(POST_CACHE)

    def __getitem__(self, key: str) -> str:
        def load(missing: list[str]) -> dict[str, str | None]:
            found: dict[str, str | None] = dict.fromkeys(missing)
            found.update(self._v.db.rows(f"SELECT key, path FROM {self._v.schema}.urls WHERE key = ANY(%s)",
                                         (missing,)))
            return found

        path = self._cache.fetch([key], load)[key]
        if path is None:
            raise KeyError(key)
        return path

    def __len__(self) -> int:
        return int(self._v.db.rows(f"SELECT count(*) FROM {self._v.schema}.urls")[0][0])

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._v.db.rows(f"SELECT key FROM {self._v.schema}.urls ORDER BY key")])
