"""Posts, series and passages in one SQLite file beside the vectors (`meta.sqlite`).

The columns are the records' own fields, so a field added to a record is stored and read back
without a second list to keep in step; tuples are stored as JSON, booleans as 0/1.
"""

from __future__ import annotations

import json
import sqlite3
import typing
from collections.abc import Callable, Iterable
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any, TypeVar

from index.errors import IndexCorrupt
from index.records import Passage, PostMeta, SeriesMeta, SkippedPost

Record = TypeVar("Record", PostMeta, SeriesMeta, Passage, SkippedPost)
# table, record type, primary key column (None: rowid only)
_TABLES: tuple[tuple[str, type[Any], str | None], ...] = (
    ("posts", PostMeta, "path"), ("series", SeriesMeta, "slug"), ("passages", Passage, "id"),
    ("skipped", SkippedPost, None),
)
EMBED_KEY = "embed_key"  # passages only: hash of model + embedded text, for reuse by the next ingest


def _columns(record: type[Any]) -> list[str]:
    return [f.name for f in fields(record)]


def _schema() -> str:
    tables = []
    for table, record, key in _TABLES:
        columns = [f"{c} PRIMARY KEY" if c == key else c for c in _columns(record)]
        if record is Passage:
            columns.append(EMBED_KEY)
        tables.append(f"CREATE TABLE {table} ({', '.join(columns)});")
    return "\n".join(tables)


def _encode(value: object) -> object:
    if isinstance(value, tuple):
        return json.dumps(value)
    return int(value) if isinstance(value, bool) else value


def _rows(records: Iterable[Any]) -> list[tuple[object, ...]]:
    return [tuple(_encode(v) for v in astuple(r)) for r in records]


def write_metadata(
    path: Path,
    posts: Iterable[PostMeta],
    series: Iterable[SeriesMeta],
    passages: Iterable[Passage],
    embed_keys: list[str],
    skipped: Iterable[SkippedPost],
) -> None:
    """Create the database file with every record of one index version."""
    con = sqlite3.connect(path)
    try:
        con.executescript(_schema())
        for table, record, rows in (("posts", PostMeta, _rows(posts)), ("series", SeriesMeta, _rows(series)),
                                    ("skipped", SkippedPost, _rows(skipped))):
            marks = ",".join("?" * len(_columns(record)))
            con.executemany(f"INSERT INTO {table} ({','.join(_columns(record))}) VALUES ({marks})", rows)
        columns = [*_columns(Passage), EMBED_KEY]
        con.executemany(
            f"INSERT INTO passages ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
            [(*row, key) for row, key in zip(_rows(passages), embed_keys, strict=True)],
        )
        con.commit()
    finally:
        con.close()


def _connect_readonly(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise IndexCorrupt(f"{path}: metadata database missing")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _decoders(record: type[Any]) -> dict[str, Callable[[Any], Any]]:
    """How to turn stored values back into field values: JSON back into tuples, 0/1 into booleans."""
    decoders: dict[str, Callable[[Any], Any]] = {}
    for name, hint in typing.get_type_hints(record).items():
        if typing.get_origin(hint) is tuple:
            decoders[name] = lambda value: tuple(json.loads(value))
        elif hint is bool:
            decoders[name] = bool
    return decoders


def _read(con: sqlite3.Connection, table: str, record: type[Record], order: str) -> list[Record]:
    """Every row of a table as records, columns named (never `SELECT *` order)."""
    columns = _columns(record)
    decoders = _decoders(record)
    return [
        record(**{c: decoders[c](v) if c in decoders else v for c, v in zip(columns, row, strict=True)})
        for row in con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
    ]


def read_metadata(path: Path) -> tuple[dict[str, PostMeta], dict[str, SeriesMeta], list[Passage]]:
    """Load every post, series and passage of a version; a damaged file raises IndexCorrupt."""
    try:
        con = _connect_readonly(path)
        try:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise IndexCorrupt(f"{path}: database failed its integrity check")
            posts = {p.path: p for p in _read(con, "posts", PostMeta, "rowid")}
            series = {s.slug: s for s in _read(con, "series", SeriesMeta, "slug")}
            passages = _read(con, "passages", Passage, "id")
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
            return [row[0] for row in con.execute(f"SELECT {EMBED_KEY} FROM passages ORDER BY id")]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise IndexCorrupt(f"{path}: database unreadable: {e}") from e


def read_skipped(path: Path) -> list[SkippedPost]:
    """The posts the version's ingest could not read, with their line and reason."""
    try:
        con = _connect_readonly(path)
        try:
            return _read(con, "skipped", SkippedPost, "rowid")
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise IndexCorrupt(f"{path}: database unreadable: {e}") from e
