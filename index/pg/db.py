"""Connections: a psycopg pool for reads (with timeouts), the writer's own connection, and errors in our terms.

A database that is down, restarting or too slow becomes `StoreUnavailable` (the service answers
503 with its message); a version whose tables are gone becomes `IndexMissing`. The pool checks a
connection that sat idle before handing it out, so after a restart no request is given a dead one,
and it gives up reconnecting after a few seconds, so the next request starts a fresh attempt instead
of waiting out a long back-off.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from index.errors import IndexMismatch, IndexMissing, StoreUnavailable
from index.pg import codec

log = logging.getLogger("casebook.index")
Row = tuple[Any, ...]

POOL_MAX = 8  # connections per process; a request holds one (see `reading`)
POOL_WAIT_SECONDS = 2.0  # a request waits this long for a connection, then gets a 503
POLL_WAIT_SECONDS = 1.0  # the published-version poll waits less: readiness turns 503 within a second or two
CONNECT_SECONDS = 3
STATEMENT_MS = 10_000  # service queries; ingest's writes have no limit
RECONNECT_SECONDS = 10.0  # after this, the next request starts a new connection attempt
# A connection returned to the pool less than this ago is handed out unchecked: a check is a round trip,
# and a connection in steady use has just shown it works (one used while the database was away is discarded).
CHECK_IDLE_SECONDS = 1.0
EMBEDDING = "halfvec"  # the type of the embedding column (bench/README.md, store: halfvec vs vector)
# Dense search: candidates scanned by HNSW (>= the 50 the ranking asks for), or IVFFlat lists scanned
# (index/pg/schema.py), and iterative scans so a filter that drops most of them still yields enough (pgvector 0.8).
DENSE_SETTINGS = {"hnsw.ef_search": "400", "hnsw.iterative_scan": "relaxed_order", "hnsw.max_scan_tuples": "20000",
                 "ivfflat.probes": "20", "ivfflat.iterative_scan": "relaxed_order", "ivfflat.max_probes": "100"}


def conninfo(url: str, **defaults: Any) -> dict[str, Any]:
    """The URL's connection parameters, with our defaults for the ones it does not set."""
    params: dict[str, Any] = conninfo_to_dict(url)
    for key, value in defaults.items():
        params.setdefault(key, value)
    return params


@contextmanager
def translated(url: str) -> Iterator[None]:
    """Turn driver errors into the index's: unavailable database, vanished version."""
    try:
        yield
    except PoolTimeout as e:
        raise StoreUnavailable(f"{_where(url)}: no database connection (is PostgreSQL up?): {e}") from e
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as e:
        raise IndexMissing(f"{_where(url)}: the index version's tables are gone (pruned?): "
                           f"{e.diag.message_primary}") from e
    except psycopg.errors.UndefinedColumn as e:
        raise IndexMismatch(f"{_where(url)}: unexpected table layout: {e.diag.message_primary}") from e
    except psycopg.OperationalError as e:
        raise StoreUnavailable(f"{_where(url)}: database unavailable: {str(e).strip() or type(e).__name__}") from e


def _where(url: str) -> str:
    """The URL without its password, for messages."""
    params = conninfo_to_dict(url)
    host = params.get("host", "localhost")
    return f"postgresql {params.get('user', '')}@{host}/{params.get('dbname', '')}".replace(" @", " ")


class Database:
    """One database: a lazily opened pool for reads, and the connection a request holds while `reading`."""

    def __init__(self, url: str, *, statement_ms: int | None = STATEMENT_MS, pool_max: int = POOL_MAX) -> None:
        self.url = url
        self.statement_ms = statement_ms
        self.pool_max = pool_max
        self._pool: ConnectionPool[psycopg.Connection[Row]] | None = None
        self._lock = threading.Lock()
        self._held = threading.local()
        self._returned: weakref.WeakKeyDictionary[psycopg.Connection[Row], float] = weakref.WeakKeyDictionary()

    def __str__(self) -> str:
        return _where(self.url)

    def pool(self) -> ConnectionPool[psycopg.Connection[Row]]:
        """The pool, opened on first use; connecting continues in the background."""
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    kwargs=conninfo(self.url, connect_timeout=CONNECT_SECONDS, application_name="casebook",
                                    autocommit=True),
                    min_size=1, max_size=self.pool_max, timeout=POOL_WAIT_SECONDS, open=False,
                    configure=self._configure, check=self._check, reset=self._returned_now,
                    reconnect_timeout=RECONNECT_SECONDS, name="casebook")
                self._pool.open(wait=False)
            return self._pool

    def _returned_now(self, conn: psycopg.Connection[Row]) -> None:
        self._returned[conn] = time.monotonic()

    def _check(self, conn: psycopg.Connection[Row]) -> None:
        returned = self._returned.get(conn)
        if returned is None or time.monotonic() - returned >= CHECK_IDLE_SECONDS:
            ConnectionPool.check_connection(conn)

    def _configure(self, conn: psycopg.Connection[Row]) -> None:
        codec.register(conn, EMBEDDING, required=False)
        settings = dict(DENSE_SETTINGS)
        if self.statement_ms is not None:
            settings["statement_timeout"] = str(self.statement_ms)
        for name, value in settings.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))

    @contextmanager
    def connection(self, wait: float = POOL_WAIT_SECONDS) -> Iterator[psycopg.Connection[Row]]:
        """The connection this thread holds while `reading`, or one from the pool for this call."""
        held = getattr(self._held, "conn", None)
        if held is not None:
            yield held
            return
        with translated(self.url), self.pool().connection(timeout=wait) as conn:
            if not codec.registered(conn):  # opened before the first ingest created the extension
                codec.register(conn, EMBEDDING, required=False)
            yield conn

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold one connection for every query of a request (one pool round trip, not one per query)."""
        if getattr(self._held, "conn", None) is not None:
            yield
            return
        with self.connection() as conn:
            self._held.conn = conn
            try:
                with translated(self.url):
                    yield
            finally:
                self._held.conn = None

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *, binary: bool = False,
             wait: float = POOL_WAIT_SECONDS) -> list[Row]:
        """Run one query and return every row."""
        with self.connection(wait) as conn, translated(self.url):
            with conn.cursor(binary=binary) as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

    def close(self) -> None:
        """Close the pool (its connections and background threads)."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def writer_connection(url: str) -> psycopg.Connection[Row]:
    """A connection of its own for one ingest: no statement timeout, and the server notices a killed client (14+).

    The server aborts a statement (an index build) within a second of the client going away, rolling
    back the version and releasing the ingest lock, instead of finishing work nobody will commit.
    """
    try:
        conn: psycopg.Connection[Row] = psycopg.connect(**conninfo(url, connect_timeout=CONNECT_SECONDS,
                                                                   application_name="casebook ingest"))
    except psycopg.OperationalError as e:
        raise StoreUnavailable(f"{_where(url)}: cannot connect: {str(e).strip()}") from e
    conn.execute("SET client_connection_check_interval = 1000")
    conn.execute("SET statement_timeout = 0")  # an index build may take minutes, whatever the role's default
    conn.commit()
    return conn
