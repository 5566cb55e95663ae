"""`PostgresStore`: index versions in a PostgreSQL database, with the folder store's guarantees.

An ingest takes the ingest lock (a session advisory lock: a killed ingest's connection drops it),
writes its version in one transaction and publishes it by updating the one pointer row; rollback
updates it back; the oldest versions beyond the newest five are dropped with their schemas. Every
service process polls the pointer row and opens the version it names.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from index.embedder import Precision
from index.errors import IndexLocked, IndexMismatch, IndexMissing
from index.files import model_folder, unpack_model
from index.manifest import Manifest
from index.pg import schema
from index.pg.db import POLL_WAIT_SECONDS, STATEMENT_MS, Database, Row, translated, writer_connection
from index.pg.version import PostgresVersion
from index.pg.writer import write_version
from index.records import SkippedPost
from index.store import KEEP_VERSIONS, IndexBuild, roll_back

log = logging.getLogger("casebook.index")
LOCK_KEY = 0x63617365626F6F6B  # "casebook": the advisory lock one ingest holds at a time
PRUNE_LOCK_MS = 2_000  # dropping a version waits this long for readers of it, then is left to the next publish


class PostgresStore:
    """Index versions in one PostgreSQL database: write one, publish one, open the published one, roll back."""

    def __init__(self, url: str, *, for_service: bool = False, model_cache: Path = Path("var/models")) -> None:
        """Args: model_cache: where the model's files kept in the database are unpacked for this machine."""
        self.url = url
        self.db = Database(url, statement_ms=STATEMENT_MS if for_service else None)
        self.model_cache = model_cache

    def __str__(self) -> str:
        return str(self.db)

    def _state(self) -> tuple[int | None, str | None]:
        """The schema version and the published version's name (None, None before the first ingest).

        One query: every service process asks it several times a second.
        """
        try:
            found = self.db.rows("SELECT s.version, v.name FROM casebook.schema_version s "
                                 "LEFT JOIN casebook.published p ON true "
                                 "LEFT JOIN casebook.versions v ON v.id = p.version_id", wait=POLL_WAIT_SECONDS)
        except IndexMissing:  # no casebook tables: nothing was ever ingested here
            return None, None
        return (int(found[0][0]), found[0][1]) if found else (None, None)

    def published(self) -> str | None:
        """The published version's id, or None when nothing was published yet."""
        found, name = self._state()
        if found is None:
            return None
        schema.check(found, str(self))
        return str(name) if name else None

    def versions(self) -> list[str]:
        """Complete versions, oldest first."""
        found, _ = self._state()
        if found is None:
            return []
        return sorted(r[0] for r in self.db.rows("SELECT name FROM casebook.versions"))

    def _row(self, version: str | None) -> tuple[int, int, Manifest]:
        name = version or self.published()
        if name is None:
            raise IndexMissing(f"{self}: no index published yet (run `casebook ingest --store ...`)")
        found, _ = self._state()
        schema.check(found, str(self))
        rows = self.db.rows("SELECT id, layout, manifest FROM casebook.versions WHERE name = %s", (name,))
        if not rows:
            raise IndexMissing(f"{self}: version {name!r} not found")
        version_id, layout, data = rows[0]
        return int(version_id), int(layout), Manifest.from_dict(data, f"{self} version {name}")

    def manifest(self, version: str | None = None) -> Manifest:
        """The manifest of the published (or a named) version."""
        return self._row(version)[2]

    def open(self, version: str | None = None) -> PostgresVersion:
        """The published (or a named) version, checked against what this code reads; nothing is loaded."""
        version_id, layout, manifest = self._row(version)
        if layout != schema.SCHEMA_VERSION:
            raise IndexMismatch(f"{self}: version {manifest.version} was written in layout {layout}, this "
                                f"Casebook reads {schema.SCHEMA_VERSION}")
        tables = self.db.rows("SELECT to_regclass(%s) IS NOT NULL", (f"{schema.version_schema(version_id)}.passages",))
        if not tables[0][0]:
            raise IndexMissing(f"{self}: version {manifest.version} has no tables")
        return PostgresVersion(self.db, version_id, manifest)

    @contextmanager
    def lock(self, wait_seconds: float = 0.0) -> Iterator[PostgresWriter]:
        """Hold the ingest lock (and create or upgrade the tables) and get the writer; a second writer waits, then
        fails clearly."""
        conn = writer_connection(self.url)
        writer = None
        locked = False
        try:
            with translated(self.url):
                deadline = time.monotonic() + wait_seconds
                while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:  # type: ignore[index]
                    if time.monotonic() >= deadline:
                        raise IndexLocked(f"{self}: another ingest is writing this index; try again later")
                    time.sleep(0.2)
                locked = True
                conn.commit()
                schema.ensure(conn, str(self))
            writer = PostgresWriter(self, conn)
            yield writer
        finally:
            if writer is not None:
                writer.conn = None  # a writer kept past the block can no longer write
            _unlock(conn, locked)

    def rollback(self, to: str | None = None, wait_seconds: float = 0.0) -> tuple[str, str | None]:
        """Publish `to`, or the newest version older than the published one; returns (new, old)."""
        return roll_back(self, to, wait_seconds)

    def reusable_vectors(self, model: str, precision: Precision) -> dict[str, np.ndarray]:
        """The published version's vectors by embedded-text key, when `model` at `precision` built it; else none."""
        try:
            version = self.open()
        except (IndexMissing, IndexMismatch):
            return {}
        if (version.manifest.model, version.manifest.precision) != (model, precision):
            return {}
        rows = self.db.rows(f"SELECT embed_key, embedding FROM {version.schema}.passages", binary=True)
        return {key: vector for key, vector in rows}

    def skipped(self, version: str | None = None) -> list[SkippedPost]:
        """The posts the published (or a named) version's ingest could not read."""
        rows = self.db.rows(f"SELECT path, line, reason FROM {self.open(version).schema}.skipped ORDER BY path")
        return [SkippedPost(path=path, line=line, reason=reason) for path, line, reason in rows]

    def model_path(self, model: str, precision: Precision = "fp32") -> Path | None:
        """A local folder of the model's serving files kept in the database (`keep_model`), or None.

        Unpacked once per machine into the model cache, under a name that changes with the files.
        """
        folder = model_folder(model, precision)
        rows = self.db.rows("SELECT md5(string_agg(digest, '' ORDER BY file)) FROM casebook.models "
                            "WHERE folder = %s", (folder,))
        if not rows or rows[0][0] is None:
            return None
        local = self.model_cache / f"{folder}-{rows[0][0][:12]}"
        if not local.is_dir():
            files = self.db.rows("SELECT file, data FROM casebook.models WHERE folder = %s", (folder,))
            unpack_model(local, {name: bytes(data) for name, data in files})
        return local

    def prune(self, keep: int) -> None:
        """Drop all but the newest `keep` versions (never the published one)."""
        conn = writer_connection(self.url)
        try:
            with translated(self.url):
                self._prune(conn, max(keep, 1))
        finally:
            conn.close()

    def _prune(self, conn: psycopg.Connection[Row], keep: int = KEEP_VERSIONS) -> None:
        current = self.published()
        names = sorted(r[0] for r in conn.execute("SELECT name FROM casebook.versions").fetchall())
        for old in names[:-keep]:
            if old == current:
                continue
            try:
                row = conn.execute("SELECT id FROM casebook.versions WHERE name = %s", (old,)).fetchone()
                if row is None:
                    continue
                conn.execute("SELECT set_config('lock_timeout', %s, true)", (str(PRUNE_LOCK_MS),))
                conn.execute(f"DROP SCHEMA IF EXISTS {schema.version_schema(row[0])} CASCADE")
                conn.execute("DELETE FROM casebook.versions WHERE id = %s", (row[0],))
                conn.commit()
            except psycopg.errors.LockNotAvailable:
                conn.rollback()  # a reader still holds it; the next publish tries again
                log.warning("version %s is still being read; it will be pruned by a later publish", old)

    def close(self) -> None:
        """Close the pool."""
        self.db.close()


class PostgresWriter:
    """What the holder of the ingest lock may do: write versions, publish one, keep the model, on its connection."""

    def __init__(self, store: PostgresStore, conn: psycopg.Connection[Row]) -> None:
        self.store = store
        self.conn: psycopg.Connection[Row] | None = conn

    def _conn(self) -> psycopg.Connection[Row]:
        if self.conn is None:
            raise RuntimeError("this writer's lock was released; take the lock again (`with store.lock() as writer:`)")
        return self.conn

    def write(self, build: IndexBuild) -> str:
        """Write a complete version in one transaction (not yet published)."""
        conn = self._conn()
        with translated(self.store.url):
            try:
                write_version(conn, build)
            except BaseException:
                conn.rollback()
                raise
        return build.manifest.version

    def publish(self, version: str) -> None:
        """Point the published row at a complete version, then drop the oldest versions."""
        conn = self._conn()
        with translated(self.store.url):
            row = conn.execute("SELECT id FROM casebook.versions WHERE name = %s", (version,)).fetchone()
            if row is None:
                raise IndexMissing(f"{self.store}: no complete version {version!r}")
            conn.execute("INSERT INTO casebook.published (version_id) VALUES (%s) ON CONFLICT (singleton) "
                         "DO UPDATE SET version_id = excluded.version_id, published_at = now()", (row[0],))
            conn.commit()
            self.store._prune(conn)

    def keep_model(self, model: str, files: Mapping[str, Path], precision: Precision = "fp32") -> None:
        """Keep the model's serving files (name -> file) in the database, once."""
        folder = model_folder(model, precision)
        conn = self._conn()
        with translated(self.store.url):
            if conn.execute("SELECT 1 FROM casebook.models WHERE folder = %s LIMIT 1", (folder,)).fetchone():
                return
            for name, source in files.items():
                data = source.read_bytes()
                conn.execute("INSERT INTO casebook.models (folder, file, digest, data) VALUES (%s, %s, %s, %s)",
                             (folder, name, hashlib.sha256(data).hexdigest(), data))
            conn.commit()


def _unlock(conn: psycopg.Connection[Any], locked: bool) -> None:
    """Release the ingest lock before closing: the server would release it with the session, but only once its
    backend has ended, which a busy server does after the next command may already have asked for the lock."""
    try:
        if locked and not conn.closed:
            conn.rollback()
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    except psycopg.Error:
        pass  # a broken connection: closing it ends the session, and the lock with it
    finally:
        conn.close()
