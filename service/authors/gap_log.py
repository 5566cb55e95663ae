"""Content gaps: the questions the blog could not answer, kept in a small SQLite file for authors.

Handlers hand each question to `GapLog.offer`, which only puts it on a queue. A background thread
decides whether the blog had an answer and writes the ones it had not, so the request path never
waits for the disk, and a store that cannot be written is logged, never a failed request. Only the
question, the time, the best passage cosine and the closest post are kept: no client address or header.
Every question, answered or not, is also counted per day (`asked`: the day, the question, how many
times), for the questions readers ask most.

A public search box is also asked junk, and one client can ask thousands of questions: junk (no word the
blog or the model knows) is never written, and each client may queue OFFERS_PER_HOUR questions and have
ROWS_PER_HOUR written an hour. The client is counted in memory under a keyed hash that changes with every
process, and never written. The file is readable by its owner only; retention runs at start and hourly.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from index.errors import IndexError_
from index.text import query_words
from service.search.live import Live
from service.search.query import SPELLING_LOOKUPS

log = logging.getLogger("casebook.gaps")
Endpoint = Literal["search", "ask"]
# A search is weak when no passage of the blog comes this close to the question (cosine, MiniLM).
# On ../shared/eval/dev.jsonl and bench/unanswerable.jsonl, thresholds from 0.45 to 0.48 log 4 of the
# 72 answerable questions; 0.48 logs 23 of the 30 unanswerable ones (bench/QUALITY.md, content gaps).
WEAK_BELOW = 0.48
# The search page asks as the reader types, and asks /api/search and /api/ask the same question. A
# question waits this long; a longer version of it (or the same text) arriving meanwhile replaces it,
# and an answer found for it cancels it. Two readers asking the same within this time count once.
SETTLE_SECONDS = 5.0
QUEUE_SIZE = 10_000  # questions waiting for the writer; beyond it they are dropped and counted
PENDING = 2_000  # questions settling at once: each is one nearest-passage look-up when it settles
PRUNE_EVERY = 100  # writes between two retention passes, besides one at start and one an hour
PRUNE_SECONDS = 3600.0
# Per client and worker, an hour: questions queued (a reader typing sends a few per question; the page's
# search-as-you-type settles into one), and rows written (a reader rarely meets ten unanswered questions).
OFFERS_PER_HOUR = 300
ROWS_PER_HOUR = 20
_SCHEMA = """
CREATE TABLE IF NOT EXISTS unanswered (id INTEGER PRIMARY KEY, asked_at TEXT NOT NULL, endpoint TEXT NOT NULL,
    query TEXT NOT NULL, top_score REAL NOT NULL, closest TEXT);
CREATE INDEX IF NOT EXISTS unanswered_asked_at ON unanswered (asked_at);
CREATE TABLE IF NOT EXISTS asked (day TEXT NOT NULL, key TEXT NOT NULL, query TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (day, key));
"""


@dataclass(frozen=True)
class Unanswered:
    """One question the blog had no answer for."""

    asked_at: str  # UTC, ISO 8601 to the second
    endpoint: Endpoint
    query: str
    top_score: float  # cosine of the closest passage of the blog
    closest: str | None  # content path of the post holding that passage


@dataclass(frozen=True)
class Asked:
    """A question as readers ask it, counted over some days."""

    query: str  # its latest wording (questions differing only in case and spacing count as one)
    asked: int
    last_asked: str  # the day, YYYY-MM-DD (UTC)


@dataclass(frozen=True)
class _Offer:
    at: float  # monotonic time it arrived
    asked_at: str
    endpoint: Endpoint
    query: str
    key: str  # question_key(query), read once: every question arriving is compared with all those settling
    found: bool | None  # /api/ask's verdict; None for a search, judged by its closest passage
    live: Live
    asker: str  # the client, only for its query vector in the version's cache; never written
    client: bytes  # the client's keyed hash, for its hourly caps


class _HourlyCounts:
    """How many of something each client had this hour (keyed hashes, forgotten when the hour turns)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._hour = -1
        self._counts: Counter[bytes] = Counter()

    def spent(self, client: bytes) -> bool:
        """Whether the client already had its limit this hour."""
        hour = int(time.monotonic() // 3600)
        if hour != self._hour:
            self._hour, self._counts = hour, Counter()
        return self._counts[client] >= self.limit

    def take(self, client: bytes) -> bool:
        """Count one for the client; False when it already had its limit this hour."""
        if self.spent(client):
            return False
        self._counts[client] += 1
        return True


class GapLog:
    """The writer of the gap log; `path` None turns it off (every call returns at once)."""

    def __init__(self, path: Path | None, max_rows: int, max_days: int, settle_seconds: float = SETTLE_SECONDS,
                 prune_seconds: float = PRUNE_SECONDS) -> None:
        self.path = path
        self.max_rows = max_rows
        self.max_days = max_days
        self.settle_seconds = settle_seconds
        self.prune_seconds = prune_seconds
        self.dropped = 0  # questions not written: queue full, over a client's caps, or store unwritable
        self.junk = 0  # questions not written because no word of them is known
        self._queue: queue.Queue[_Offer | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._writes = 0
        self._failing = False
        self._salt = secrets.token_bytes(16)  # per process: the hashes mean nothing elsewhere or later
        self._offers = _HourlyCounts(OFFERS_PER_HOUR)
        self._offers_lock = threading.Lock()
        self._rows = _HourlyCounts(ROWS_PER_HOUR)  # the writer thread's only
        self._pruned_at = 0.0

    def start(self) -> None:
        """Start the writer thread (the app's lifespan does)."""
        if self.path is not None and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="casebook-gap-log", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Write what is waiting and stop the writer."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def offer(self, live: Live, endpoint: Endpoint, query: str, found: bool | None = None, asker: str = "") -> None:
        """Hand a question over for the writer to judge; never blocks, never raises. `asker` is the client."""
        if self._thread is None:
            return
        client = hashlib.blake2b(asker.encode(), key=self._salt, digest_size=8).digest()
        with self._offers_lock:
            allowed = self._offers.take(client)
        if not allowed:
            self.dropped += 1
            return
        asked_at = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            self._queue.put_nowait(_Offer(time.monotonic(), asked_at, endpoint, query, question_key(query), found,
                                           live, asker, client))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        self._prune()  # retention holds from the start, however few questions come
        pending: list[_Offer] = []
        while True:
            now = time.monotonic()
            wait = self._pruned_at + self.prune_seconds - now
            if pending:
                wait = min(wait, self.settle_seconds - (now - pending[0].at))
            try:
                offer = self._queue.get(timeout=max(0.0, wait))
            except queue.Empty:
                pass
            else:
                if offer is None:  # closing: write everything still waiting
                    self._write(pending)
                    return
                if len(pending) < PENDING:
                    pending = _merge(pending, offer)
                else:
                    self.dropped += 1
            pending = self._write_settled(pending)
            if time.monotonic() >= self._pruned_at + self.prune_seconds:
                self._prune()

    def _write_settled(self, pending: list[_Offer]) -> list[_Offer]:
        """Write the questions that waited long enough; return the others."""
        now = time.monotonic()
        self._write([p for p in pending if now - p.at >= self.settle_seconds])
        return [p for p in pending if now - p.at < self.settle_seconds]

    def _write(self, offers: list[_Offer]) -> None:
        """Count every settled question that is not junk, and keep the ones the blog had no answer for."""
        asked, rows = [], []
        for offer in offers:
            if is_junk(offer.live, offer.query):
                self.junk += 1
                continue
            asked.append((offer.asked_at, offer.query))
            if offer.found is True:
                continue
            if self._rows.spent(offer.client):  # before judging: a flood's questions cost no nearest-passage search
                self.dropped += 1
            elif (row := _judge(offer)) is not None:
                self._rows.take(offer.client)
                rows.append(row)
        if asked:
            self._store(asked, rows)

    def _prune(self) -> None:
        """Apply the retention now (at start, then hourly) to a log that exists."""
        self._pruned_at = time.monotonic()
        if self.path is not None and self.path.exists():
            self._store([], [], prune_now=True)

    def _store(self, asked: list[tuple[str, str]], rows: list[Unanswered], prune_now: bool = False) -> None:
        """Count the asked questions, keep the rows and, every PRUNE_EVERY rows or when asked, apply the retention,
        in one transaction."""
        if self.path is None:
            return
        try:
            con = _connect(self.path)
            try:
                with con:
                    _save(con, rows, asked)
                    self._writes += len(rows)
                    if prune_now or self._writes >= PRUNE_EVERY:
                        self._writes = 0
                        prune(con, self.max_rows, self.max_days)
            finally:
                con.close()
            if self._failing:
                log.info("gap log %s is writable again", self.path)
            self._failing = False
        except (sqlite3.Error, OSError) as e:
            self.dropped += len(rows)
            if not self._failing:  # once per outage, not once per question
                log.error("gap log %s cannot be written (%s); unanswered questions are not kept until it can",
                          self.path, e)
            self._failing = True


def _merge(pending: list[_Offer], offer: _Offer) -> list[_Offer]:
    """Add a question; it replaces the waiting ones it extends or repeats, and keeps an answer found for its text."""
    replaced = [p for p in pending if offer.key.startswith(p.key)]
    if any(p.found is True and p.key == offer.key for p in replaced):
        offer = replace(offer, found=True)
    return [p for p in pending if not offer.key.startswith(p.key)] + [offer]


def _judge(offer: _Offer) -> Unanswered | None:
    """The row to keep for a question the blog could not answer, or None when it could."""
    version = offer.live.version
    try:
        with version.reading():
            hits = version.vectors.search(offer.live.embed_query(offer.query, offer.asker), 1)
            closest = version.passages[hits[0].passage_id].post_path if hits else None
    except IndexError_ as e:  # a database store that is down: the question cannot be judged, so it is not kept
        log.warning("gap log: question not judged (%s)", e)
        return None
    top = round(hits[0].score, 4) if hits else 0.0
    if offer.found is None and top >= WEAK_BELOW:
        return None
    return Unanswered(offer.asked_at, offer.endpoint, offer.query, top, closest)


def is_junk(live: Live, question: str) -> bool:
    """Whether no word of a question (stop words aside) is one the blog or the model knows, as typed or once
    its spelling is corrected: keyboard mash, random letters, symbols. Measured on the real blog: no judged
    or unanswerable question is junk; nearly all generated mash is (docs/production.md, "The gap log")."""
    speller = live.speller
    looked_up = 0
    for word, _ in query_words(question):
        if speller.knows(word):
            return False
        if looked_up < SPELLING_LOOKUPS and word.isalpha():
            looked_up += 1
            if speller.suggest(word) is not None:
                return False
    return True


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)  # with the index in a database, its folder may not exist
    _owner_only(path)
    con = sqlite3.connect(path, timeout=2.0)  # the workers of one service share the file
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(_SCHEMA)
    except sqlite3.Error:
        con.close()
        raise
    return con


def _owner_only(path: Path) -> None:
    """Create the log readable and writable by its owner only (SQLite gives its -wal and -shm files the same
    mode), and close up one an older version created open to all."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except PermissionError:  # not ours to change: SQLite says what it can and cannot do with it
        pass


def _save(con: sqlite3.Connection, rows: list[Unanswered], asked: Iterable[tuple[str, str]]) -> None:
    """Keep the unanswered rows and count each (asked_at, question) once more on its day."""
    con.executemany("INSERT INTO unanswered (asked_at, endpoint, query, top_score, closest) VALUES (?,?,?,?,?)",
                    [(r.asked_at, r.endpoint, r.query, r.top_score, r.closest) for r in rows])
    con.executemany("INSERT INTO asked (day, key, query, n) VALUES (?, ?, ?, 1) "
                    "ON CONFLICT (day, key) DO UPDATE SET n = n + 1, query = excluded.query",
                    [(at[:10], question_key(query), " ".join(query.split())) for at, query in asked])


def prune(con: sqlite3.Connection, max_rows: int, max_days: int) -> None:
    """Apply the retention limits: rows older than `max_days`, then all but the newest `max_rows`."""
    if max_days > 0:
        cutoff = (datetime.now(UTC) - timedelta(days=max_days)).isoformat(timespec="seconds")
        con.execute("DELETE FROM unanswered WHERE asked_at < ?", (cutoff,))
        con.execute("DELETE FROM asked WHERE day < ?", (cutoff[:10],))
    if max_rows > 0:
        con.execute("DELETE FROM unanswered WHERE id <= (SELECT MAX(id) FROM unanswered) - ?", (max_rows,))
        con.execute("DELETE FROM asked WHERE rowid <= (SELECT MAX(rowid) FROM asked) - ?", (max_rows,))


def record(path: Path, rows: list[Unanswered], asked: Iterable[tuple[str, str]] = ()) -> None:
    """Write unanswered rows directly, and count (asked_at, question) pairs as asked (for tests, benchmarks and
    imports); the service goes through `GapLog`."""
    con = _connect(path)
    try:
        with con:
            _save(con, rows, asked)
    finally:
        con.close()


def read_unanswered(path: Path, since: str | None = None) -> list[Unanswered]:
    """Every logged question, oldest first, optionally from a date (YYYY-MM-DD) on; [] when there is no log."""
    if not path.is_file():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT asked_at, endpoint, query, top_score, closest FROM unanswered "
                           "WHERE asked_at >= ? ORDER BY id", (since or "",)).fetchall()
    finally:
        con.close()
    return [Unanswered(*row) for row in rows]


def most_asked(path: Path, since: str, top: int) -> list[Asked]:
    """The questions asked most often from a day (YYYY-MM-DD) on, answered or not; [] when there is no log."""
    if not path.is_file():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT (SELECT query FROM asked AS latest WHERE latest.key = a.key ORDER BY day DESC LIMIT 1), "
            "SUM(n), MAX(day) FROM asked AS a WHERE day >= ? GROUP BY key ORDER BY SUM(n) DESC, MAX(day) DESC, key "
            "LIMIT ?", (since, top)).fetchall()
    except sqlite3.OperationalError:  # a log written before questions were counted
        return []
    finally:
        con.close()
    return [Asked(*row) for row in rows]


def question_key(query: str) -> str:
    """What makes two wordings the same question here: case and spacing aside."""
    return " ".join(query.lower().split())
