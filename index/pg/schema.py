"""The database layout, created and upgraded by ingest; readers only check it.

`casebook.schema_version` holds one number. An ingest creates the layout in an empty database and
runs `MIGRATIONS` on an older one, under the ingest lock; every reader refuses a newer one with a
message saying to upgrade Casebook. Each version lives in a schema of its own, `casebook_v<id>`,
created inside the ingest's transaction and dropped whole when the version is pruned.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg

from index.errors import IndexMismatch, IndexMissing

SCHEMA_VERSION = 1
# Steps from each older schema version to the next: {1: ["ALTER TABLE ..."]} takes 1 to 2.
MIGRATIONS: dict[int, list[str]] = {}
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64  # pgvector's defaults; recall measured in bench (store section)
# Past the size where the folder store leaves its exact scan (`index.vectors.choose_kind`), the embedding gets
# pgvector's IVFFlat instead of HNSW: at 100x the real blog HNSW with these settings found 0.92 of the exact
# top 10 even at ef_search 400, and took ~15 times longer to build; IVFFlat with sqrt(n) lists (pgvector's
# advice past a million rows) scanning 10 of them found 0.975. At 10x 10 lists found only 0.93-0.95, so a query
# scans 20 (index/pg/db.py): 0.974 at ~5 ms in process; 30 found 0.986 at ~8 ms (bench/QUALITY.md, issue 27).

CATALOG = """
CREATE SCHEMA IF NOT EXISTS casebook;
CREATE TABLE casebook.schema_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version integer NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE casebook.versions (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,      -- the manifest's version id
    layout integer NOT NULL,        -- the schema version its tables were written in
    manifest jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE casebook.published (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version_id integer NOT NULL REFERENCES casebook.versions (id),
    published_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE casebook.models (      -- the model's serving files, so a server without PyTorch runs it
    folder text NOT NULL,           -- its name and precision, as in an index folder's models/
    file text NOT NULL,             -- path within the folder
    digest text NOT NULL,           -- sha256 of data: names the machine's unpacked copy without reading data
    data bytea NOT NULL,
    PRIMARY KEY (folder, file));
ALTER TABLE casebook.models ALTER COLUMN data SET STORAGE EXTERNAL;
"""

# One version's tables, before its rows are copied in; {s} is the version's schema, {dim} the vector size.
VERSION_TABLES = """
CREATE SCHEMA {s};
CREATE TABLE {s}.posts (
    row integer PRIMARY KEY,        -- position in post order; whole-post BM25 returns it
    path text NOT NULL UNIQUE,
    meta jsonb NOT NULL,            -- the PostMeta record
    section text NOT NULL,
    series text[] NOT NULL,
    tags text[] NOT NULL,           -- lower-cased, for the tag filter
    date text,
    first_passage integer NOT NULL, -- a post's passages are numbered consecutively
    passage_count integer NOT NULL,
    lead_passage integer,           -- its first passage that is not navigation (answers start there)
    candidate boolean NOT NULL,     -- related posts may suggest it (index/features.py)
    names text[] NOT NULL,
    about text[] NOT NULL,
    name_weight double precision NOT NULL,
    about_weight double precision NOT NULL,
    inbound integer NOT NULL,
    day double precision NOT NULL,
    links text[] NOT NULL);         -- content paths it links to
CREATE TABLE {s}.passages (
    id integer PRIMARY KEY,
    post_row integer NOT NULL,
    heading text NOT NULL,
    anchor text NOT NULL,
    text text NOT NULL,
    kind text NOT NULL,
    n_tokens integer NOT NULL,
    embed_key text NOT NULL,        -- model + embedded text hash: the next ingest reuses the vector
    evidence boolean NOT NULL,      -- related-posts evidence
    embedding {embedding}({dim}) NOT NULL);
CREATE TABLE {s}.series (slug text PRIMARY KEY, meta jsonb NOT NULL);
CREATE TABLE {s}.terms (            -- BM25 postings as bm25s computed them, one row per stem
    field smallint NOT NULL,        -- 0: passages, 1: whole posts
    term text NOT NULL,
    df integer NOT NULL,
    rows bytea NOT NULL,            -- int32 little-endian, ascending
    scores bytea NOT NULL,          -- float32 little-endian, BM25 score of the term in each row
    PRIMARY KEY (field, term));
ALTER TABLE {s}.terms ALTER COLUMN rows SET STORAGE EXTERNAL, ALTER COLUMN scores SET STORAGE EXTERNAL;
CREATE TABLE {s}.words (            -- spelling's vocabulary, in first-seen order
    seq integer PRIMARY KEY,
    word text NOT NULL,
    count integer NOT NULL,
    rank integer NOT NULL);         -- rank of its lower-case form by count: services load the first N
CREATE TABLE {s}.urls (key text PRIMARY KEY, path text NOT NULL);
CREATE TABLE {s}.weights (kind text NOT NULL, word text NOT NULL, idf double precision NOT NULL,
    PRIMARY KEY (kind, word));       -- n: names, s: stems, over related posts' candidates
CREATE TABLE {s}.skipped (path text NOT NULL, line integer, reason text NOT NULL);
CREATE TABLE {s}.openings (opening text PRIMARY KEY);  -- sentence openings the blog repeats: never answer text
"""

# After the rows are in: building indexes once is faster than maintaining them row by row.
VERSION_INDEXES = """
CREATE INDEX ON {s}.passages (post_row);
CREATE INDEX ON {s}.words (rank);
ANALYZE {s}.passages; ANALYZE {s}.posts; ANALYZE {s}.terms;
"""


HNSW_INDEX = ("CREATE INDEX ON {s}.passages USING hnsw (embedding {embedding}_ip_ops) "
              "WITH (m = {m}, ef_construction = {ef})")
IVF_INDEX = "CREATE INDEX ON {s}.passages USING ivfflat (embedding {embedding}_ip_ops) WITH (lists = {lists})"


def dense_index(s: str, embedding: str, kind: str, count: int) -> str:
    """The statement that indexes a version's embeddings: IVFFlat for the `ivf` kind, else HNSW."""
    if kind == "ivf":
        return IVF_INDEX.format(s=s, embedding=embedding, lists=ivf_lists(count))
    return HNSW_INDEX.format(s=s, embedding=embedding, m=HNSW_M, ef=HNSW_EF_CONSTRUCTION)


def ivf_lists(count: int) -> int:
    """The IVFFlat lists for `count` passages: sqrt(n), as pgvector advises past a million rows."""
    return max(1, int(math.sqrt(count)))


def version_schema(version_id: int) -> str:
    """The schema holding one version's tables (an integer we assigned: safe to put in SQL)."""
    return f"casebook_v{int(version_id)}"


def current(conn: psycopg.Connection[Any]) -> int | None:
    """The schema version this database holds, or None before the first ingest."""
    exists = conn.execute("SELECT to_regclass('casebook.schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute("SELECT version FROM casebook.schema_version").fetchone()
    return int(row[0]) if row else None


def check(found: int | None, where: str) -> None:
    """Refuse a database without our tables, or with a layout this Casebook does not read."""
    if found is None:
        raise IndexMissing(f"{where}: no index published yet (run `casebook ingest --store ...`)")
    if found > SCHEMA_VERSION:
        raise IndexMismatch(f"{where}: the database holds Casebook schema version {found}, newer than the "
                            f"{SCHEMA_VERSION} this Casebook reads; upgrade Casebook")
    if found < SCHEMA_VERSION:
        raise IndexMismatch(f"{where}: the database holds Casebook schema version {found}; run "
                            f"`casebook ingest --store ...` once to upgrade it to {SCHEMA_VERSION}")


def ensure(conn: psycopg.Connection[Any], where: str) -> None:
    """Create the layout in an empty database, or upgrade an older one; call under the ingest lock."""
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege as e:
        conn.rollback()
        raise IndexMissing(f"{where}: the pgvector extension is not installed and this user may not install "
                           "it (an administrator runs: CREATE EXTENSION vector)") from e
    found = current(conn)
    if found is None:
        conn.execute(CATALOG)
        conn.execute("INSERT INTO casebook.schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
    elif found > SCHEMA_VERSION:
        check(found, where)
    else:
        for step in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        conn.execute("UPDATE casebook.schema_version SET version = %s, changed_at = now()", (SCHEMA_VERSION,))
    conn.commit()
