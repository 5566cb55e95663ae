"""Posts, series and passages in one SQLite file beside the vectors (`meta.sqlite`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from index.errors import IndexCorrupt
from index.records import Passage, PostMeta, SeriesMeta

_SCHEMA = """
CREATE TABLE posts (path TEXT PRIMARY KEY, title TEXT, url TEXT, section TEXT, series TEXT, tags TEXT,
    categories TEXT, date TEXT, lastmod TEXT, description TEXT, weight INTEGER, aliases TEXT,
    is_hub INTEGER, content_hash TEXT, links TEXT, duplicate_of TEXT);
CREATE TABLE series (slug TEXT PRIMARY KEY, title TEXT, url TEXT, description TEXT, hub_path TEXT,
    posts TEXT);
CREATE TABLE passages (id INTEGER PRIMARY KEY, post_path TEXT, heading TEXT, anchor TEXT, text TEXT,
    kind TEXT, n_tokens INTEGER, embed_key TEXT);
CREATE TABLE skipped (path TEXT, line INTEGER, reason TEXT);
"""
_LISTS = ("series", "tags", "categories", "aliases", "links")


def write_metadata(
    path: Path,
    posts: Iterable[PostMeta],
    series: Iterable[SeriesMeta],
    passages: Iterable[Passage],
    embed_keys: list[str],
    skipped: Iterable[tuple[str, int | None, str]],
) -> None:
    """Create the database file with every record of one index version."""
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO posts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (p.path, p.title, p.url, p.section, json.dumps(p.series), json.dumps(p.tags),
                 json.dumps(p.categories), p.date, p.lastmod, p.description, p.weight,
                 json.dumps(p.aliases), int(p.is_hub), p.content_hash, json.dumps(p.links), p.duplicate_of)
                for p in posts
            ],
        )
        con.executemany(
            "INSERT INTO series VALUES (?,?,?,?,?,?)",
            [(s.slug, s.title, s.url, s.description, s.hub_path, json.dumps(s.posts)) for s in series],
        )
        con.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)",
            [
                (p.id, p.post_path, p.heading, p.anchor, p.text, p.kind, p.n_tokens, key)
                for p, key in zip(passages, embed_keys, strict=True)
            ],
        )
        con.executemany("INSERT INTO skipped VALUES (?,?,?)", list(skipped))
        con.commit()
    finally:
        con.close()


def _connect_readonly(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise IndexCorrupt(f"{path}: metadata database missing")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def read_metadata(path: Path) -> tuple[dict[str, PostMeta], dict[str, SeriesMeta], list[Passage]]:
    """Load every post, series and passage of a version; a damaged file raises IndexCorrupt."""
    try:
        con = _connect_readonly(path)
        try:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise IndexCorrupt(f"{path}: database failed its integrity check")
            posts = {row[0]: _post(row) for row in con.execute("SELECT * FROM posts ORDER BY rowid")}
            series = {
                row[0]: SeriesMeta(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])))
                for row in con.execute("SELECT * FROM series ORDER BY slug")
            }
            passages = [
                Passage(row[0], row[1], row[2], row[3], row[4], row[5], row[6])
                for row in con.execute("SELECT id, post_path, heading, anchor, text, kind, n_tokens "
                                       "FROM passages ORDER BY id")
            ]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise IndexCorrupt(f"{path}: database unreadable: {e}") from e
    if any(p.id != i for i, p in enumerate(passages)):
        raise IndexCorrupt(f"{path}: passage ids are not 0..n-1")
    return posts, series, passages


def read_embed_keys(path: Path) -> list[str]:
    """The embedded-text key of every passage, in id order, for reuse by the next ingest."""
    try:
        con = _connect_readonly(path)
        try:
            return [row[0] for row in con.execute("SELECT embed_key FROM passages ORDER BY id")]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise IndexCorrupt(f"{path}: database unreadable: {e}") from e


def read_skipped(path: Path) -> list[tuple[str, int | None, str]]:
    """The posts the ingest skipped, with line and reason."""
    con = _connect_readonly(path)
    try:
        return [(r[0], r[1], r[2]) for r in con.execute("SELECT path, line, reason FROM skipped")]
    finally:
        con.close()


def _post(row: tuple) -> PostMeta:
    values = dict(zip(
        ("path", "title", "url", "section", "series", "tags", "categories", "date", "lastmod",
         "description", "weight", "aliases", "is_hub", "content_hash", "links", "duplicate_of"), row, strict=True))
    for name in _LISTS:
        values[name] = tuple(json.loads(values[name]))
    values["is_hub"] = bool(values["is_hub"])
    return PostMeta(**values)
