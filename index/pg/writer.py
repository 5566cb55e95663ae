"""One version written in one transaction: its schema, every row by binary COPY, then its indexes.

Nothing is visible to readers until the commit; a killed ingest's transaction is rolled back by the
server, tables and all. The BM25 postings and the related-posts features are computed here, in the
ingest process, by the same code the folder store uses, so both stores rank alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from index.features import VersionFeatures, evidence_by_post, url_paths, version_features
from index.lexical import LexicalSearch
from index.pg import codec, schema
from index.pg.db import EMBEDDING
from index.records import Passage, PostMeta
from index.spelling import blog_words, word_ranks
from index.store import IndexBuild
from index.text import repeated_openings

# Memory for building the HNSW graph in one pass (pgvector slows down a lot once the graph outgrows it), or IVFFlat's
# k-means sample.
BUILD_MEMORY = "1GB"


def post_layout(posts: Sequence[PostMeta], passages: Sequence[Passage]) -> list[tuple[int, int]]:
    """Each post's (first passage id, passage count); passages must come post by post, in post order."""
    row = {p.path: i for i, p in enumerate(posts)}
    counts = [0] * len(posts)
    last = -1
    for passage in passages:
        r = row[passage.post_path]
        if r < last:
            raise ValueError(f"passage {passage.id} of {passage.post_path} comes after a later post's passages")
        last = r
        counts[r] += 1
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(int).tolist() if posts else []
    return list(zip(starts, counts, strict=True))


def write_version(conn: psycopg.Connection[Any], build: IndexBuild) -> int:
    """Write a complete version in the connection's open transaction and commit it; returns its id."""
    posts = {p.path: p for p in build.posts}
    features = version_features(posts, build.series, build.passages)
    layout = post_layout(build.posts, build.passages)
    manifest = Jsonb(asdict(build.manifest))
    row = conn.execute("INSERT INTO casebook.versions (name, layout, manifest) VALUES (%s, %s, %s) RETURNING id",
                       (build.manifest.version, schema.SCHEMA_VERSION, manifest)).fetchone()
    assert row is not None
    version_id = int(row[0])
    s = schema.version_schema(version_id)
    codec.register(conn, EMBEDDING)
    conn.execute(schema.VERSION_TABLES.format(s=s, dim=build.manifest.dim, embedding=EMBEDDING))
    with conn.cursor() as cursor:
        _copy(cursor, f"{s}.posts", _post_columns(),
              _post_rows(build.posts, layout, lead_passages(build.passages), features))
        _copy(cursor, f"{s}.passages", _PASSAGE_COLUMNS, _passage_rows(build, posts, features))
        _copy(cursor, f"{s}.series", (("slug", "text"), ("meta", "jsonb")),
              ((one.slug, Jsonb(asdict(one))) for one in build.series))
        terms = ((field, stem, len(rows), codec.array_bytes(rows, "<i4"), codec.array_bytes(scores, "<f4"))
                 for field, texts in ((0, build.lexical_texts), (1, build.post_texts))
                 for stem, rows, scores in LexicalSearch.build(texts).postings())
        _copy(cursor, f"{s}.terms", (("field", "int2"), ("term", "text"), ("df", "int4"), ("rows", "bytea"),
                                     ("scores", "bytea")), terms)
        counts = blog_words(build.posts, build.passages)
        ranks = word_ranks(counts)
        _copy(cursor, f"{s}.words", (("seq", "int4"), ("word", "text"), ("count", "int4"), ("rank", "int4")),
              ((i, word, n, ranks[word.lower()]) for i, (word, n) in enumerate(counts.items())))
        _copy(cursor, f"{s}.urls", (("key", "text"), ("path", "text")), url_paths(build.posts).items())
        weights = [*(("n", w, v) for w, v in features.name_idf.items()),
                   *(("s", w, v) for w, v in features.stem_idf.items())]
        _copy(cursor, f"{s}.weights", (("kind", "text"), ("word", "text"), ("idf", "float8")), weights)
        _copy(cursor, f"{s}.skipped", (("path", "text"), ("line", "int4"), ("reason", "text")),
              ((k.path, k.line, k.reason) for k in build.skipped))
        _copy(cursor, f"{s}.openings", (("opening", "text"),),
              ((key,) for key in sorted(repeated_openings(build.passages))))
    conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (BUILD_MEMORY,))
    conn.execute(schema.dense_index(s, EMBEDDING, build.manifest.index_kind, len(build.passages)))
    conn.execute(schema.VERSION_INDEXES.format(s=s))
    conn.commit()
    return version_id


_PASSAGE_COLUMNS = (("id", "int4"), ("post_row", "int4"), ("heading", "text"), ("anchor", "text"), ("text", "text"),
                    ("kind", "text"), ("n_tokens", "int4"), ("embed_key", "text"), ("evidence", "bool"),
                    ("embedding", EMBEDDING))


def _post_columns() -> tuple[tuple[str, str], ...]:
    return (("row", "int4"), ("path", "text"), ("meta", "jsonb"), ("section", "text"), ("series", "text[]"),
            ("tags", "text[]"), ("date", "text"), ("first_passage", "int4"), ("passage_count", "int4"),
            ("lead_passage", "int4"), ("candidate", "bool"), ("names", "text[]"), ("about", "text[]"),
            ("name_weight", "float8"), ("about_weight", "float8"), ("inbound", "int4"), ("day", "float8"),
            ("links", "text[]"))


def _post_rows(posts: Sequence[PostMeta], layout: list[tuple[int, int]], leads: dict[str, int],
               features: VersionFeatures) -> Iterable[tuple[Any, ...]]:
    for i, post in enumerate(posts):
        f = features.posts[post.path]
        first, count = layout[i]
        yield (i, post.path, Jsonb(asdict(post)), post.section, list(post.series), [t.lower() for t in post.tags],
               post.date, first, count, leads.get(post.path), f.candidate, sorted(f.names), sorted(f.about),
               f.name_weight, f.about_weight, f.inbound, f.day, sorted(f.links))


def _passage_rows(build: IndexBuild, posts: dict[str, PostMeta],
                  features: VersionFeatures) -> Iterable[tuple[Any, ...]]:
    row = {path: i for i, path in enumerate(posts)}
    for passage, key, vector in zip(build.passages, build.embed_keys, build.vectors, strict=True):
        yield (passage.id, row[passage.post_path], passage.heading, passage.anchor, passage.text, passage.kind,
               passage.n_tokens, key, passage.id in features.evidence, codec.Embedding(vector))


def _copy(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[tuple[str, str]],
          rows: Iterable[Sequence[Any]]) -> None:
    names = ", ".join(name for name, _ in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([kind for _, kind in columns])
        for values in rows:
            copy.write_row(values)


def lead_passages(passages: Sequence[Passage]) -> dict[str, int]:
    """Each post's first passage that is not navigation (its first passage when all are)."""
    return {path: ids[0] for path, ids in evidence_by_post(passages).items() if ids}

