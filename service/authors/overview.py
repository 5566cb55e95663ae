"""What the authors' page shows: links to add and orphans, what the served version changed, what readers ask
that the blog does not answer (week by week), and the questions they ask most.

The cross-link report runs related posts for every article (seconds on the real blog), so each version makes it
once, on the first request for it; the gap report embeds the logged questions, so it is made again at most every
GAPS_SECONDS. Either way the page never costs more than one such run at a time.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from index.errors import IndexError_
from index.store import Store
from service.authors.crosslinks import CrosslinkReport, PageRef, articles, crosslinks
from service.authors.gap_log import Unanswered, most_asked, question_key, read_unanswered
from service.authors.gap_report import GapGroup, build_report, week_of
from service.authors.related import related_space
from service.search.live import Live

log = logging.getLogger("casebook.authors")
WEEKS = 12  # the weeks the gap charts and the most asked questions cover, this one included
TOP_GAPS = 20
TOP_QUESTIONS = 20
GAPS_SECONDS = 300.0  # the gap report is made again at most this often


@dataclass(frozen=True)
class VersionChange:
    """The posts the served version adds, edits or removes, against the version before it in the store."""

    previous: str | None  # None when the store keeps no older version
    added: tuple[PageRef, ...]
    edited: tuple[PageRef, ...]
    removed: tuple[str, ...]  # content paths


@dataclass(frozen=True)
class AskedQuestion:
    """One of the questions readers ask most."""

    query: str
    asked: int
    last_asked: str  # YYYY-MM-DD
    answered: bool  # False when the blog had no answer for it in these weeks


@dataclass(frozen=True)
class Overview:
    """Everything the authors' page shows (GET /api/authors)."""

    version: str
    articles: int
    crosslinks: CrosslinkReport
    change: VersionChange
    gap_log: bool  # False when the service keeps no log of questions (CASEBOOK_GAP_LOG=off)
    weeks: tuple[str, ...]  # the Mondays of the weeks covered, oldest first
    unanswered: int  # questions logged as unanswered in those weeks
    gaps: tuple[GapGroup, ...]  # the most asked groups first
    most_asked: tuple[AskedQuestion, ...]


class AuthorsView:
    """The authors' page over one served version: `live.derived(AuthorsView)` gives each version its own."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self._lock = threading.Lock()
        self._links: CrosslinkReport | None = None
        self._change: VersionChange | None = None
        self._gaps: tuple[float, str, int, tuple[GapGroup, ...]] | None = None  # made at, since, count, groups

    def overview(self, store: Store, gap_log: Path | None, today: date | None = None) -> Overview:
        """The page's content now: one caller computes at a time, the others wait for its result."""
        weeks = weeks_ending(today or datetime.now(UTC).date())
        with self._lock:
            if self._links is None:
                self._links = crosslinks(self.live, space=self.live.derived(related_space))
            if self._change is None:
                self._change = version_change(store, self.live)
            rows = _read_unanswered(gap_log, weeks[0])
            unanswered, groups = self._gap_groups(gap_log, weeks[0], rows or [])
            asked = self._most_asked(gap_log, weeks[0], rows)
        return Overview(self.live.version_id, len(articles(self.live)), self._links, self._change,
                        gap_log is not None, weeks, unanswered, groups, asked)

    def _gap_groups(self, gap_log: Path | None, since: str, rows: list[Unanswered]) -> tuple[int, tuple[GapGroup, ...]]:
        if gap_log is None:
            return 0, ()
        if self._gaps is not None and self._gaps[1] == since and time.monotonic() - self._gaps[0] < GAPS_SECONDS:
            return self._gaps[2], self._gaps[3]
        groups = build_report(self.live, rows, str(gap_log), since).groups[:TOP_GAPS] if rows else ()
        self._gaps = (time.monotonic(), since, len(rows), groups)
        return len(rows), groups

    def _most_asked(self, gap_log: Path | None, since: str,
                    rows: list[Unanswered] | None) -> tuple[AskedQuestion, ...]:
        if gap_log is None or rows is None:
            return ()
        unanswered = {question_key(r.query) for r in rows}
        try:
            top = most_asked(gap_log, since, TOP_QUESTIONS)
        except sqlite3.Error as e:
            log.warning("authors' page: gap log %s unreadable (%s)", gap_log, e)
            return ()
        return tuple(AskedQuestion(a.query, a.asked, a.last_asked, question_key(a.query) not in unanswered)
                     for a in top)


def _read_unanswered(gap_log: Path | None, since: str) -> list[Unanswered] | None:
    """The log's unanswered questions from a day on, read once for the gaps and the most asked; None when there is
    no log or it cannot be read."""
    if gap_log is None:
        return None
    try:
        return read_unanswered(gap_log, since)
    except sqlite3.Error as e:
        log.warning("authors' page: gap log %s unreadable (%s)", gap_log, e)
        return None


def weeks_ending(today: date, count: int = WEEKS) -> tuple[str, ...]:
    """The Mondays of the `count` weeks up to and including today's, oldest first."""
    monday = date.fromisoformat(week_of(today.isoformat()))
    return tuple((monday - timedelta(weeks=n)).isoformat() for n in range(count - 1, -1, -1))


def version_change(store: Store, live: Live) -> VersionChange:
    """What the served version changed since the newest older version the store keeps."""
    older = [v for v in store.versions() if v < live.version_id]
    if not older:
        return VersionChange(None, (), (), ())
    try:
        before = store.open(older[-1]).posts
    except IndexError_ as e:  # pruned or unreadable meanwhile: nothing to compare with
        log.warning("authors' page: version %s cannot be compared (%s)", older[-1], e)
        return VersionChange(None, (), (), ())
    now = live.version.posts
    added = [p for path, p in sorted(now.items()) if path not in before]
    edited = [p for path, p in sorted(now.items()) if path in before and before[path].content_hash != p.content_hash]
    return VersionChange(older[-1], tuple(PageRef(p.path, p.title, p.url) for p in added),
                         tuple(PageRef(p.path, p.title, p.url) for p in edited),
                         tuple(sorted(path for path in before if path not in now)))
