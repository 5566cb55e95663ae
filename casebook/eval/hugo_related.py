"""Hugo's related content, the baseline for `casebook eval --related`: its documented default scoring.

Hugo (`related/inverted_index.go`) indexes three front matter fields with its default configuration:
`keywords` (weight 100), `date` as its year (weight 10) and `tags` (weight 80). A page matching the
source's keywords, year and tags adds its index's weight once per shared value; it is kept when its
average weight per match reaches `threshold / matches` (threshold 80), and pages are ranked by total
weight, newer first on ties. Values are compared as written (`toLower` is off). We run it with
`includeNewer`, so newer posts are candidates too: without it, the first post of a blog has no
related posts at all. `tests/casebook/test_eval_related.py` checks this against the `hugo` binary.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import PostError
from ingest.frontmatter import split_front_matter
from ingest.hugo import discover_posts

THRESHOLD = 80
WEIGHTS = {"keywords": 100, "date": 10, "tags": 80}  # Hugo's default related indices
# The front matter reader keeps a date's day only; Hugo breaks ties by the full time, so read it as written.
_RAW_DATE = re.compile(r"""^\s*["']?date["']?\s*[:=]\s*["']?([0-9][^"'\n]*)""", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class HugoPage:
    """What Hugo's default related-content indices read from one regular page."""

    path: str  # content-relative, posix
    keywords: tuple[str, ...]
    year: str  # the `date` index's keyword: the date formatted as "2006"
    tags: tuple[str, ...]
    published: float  # POSIX time of the date, for ties (newer first); 0 when the page has no date


class HugoRelated:
    """`.Site.RegularPages.Related .` for every regular page of a content folder."""

    def __init__(self, pages: list[HugoPage]) -> None:
        self.pages = {page.path: page for page in pages}
        self._postings: dict[tuple[str, str], list[str]] = defaultdict(list)
        for page in pages:
            for index, value in _keywords(page):
                self._postings[(index, value)].append(page.path)

    def related(self, path: str, k: int = 10) -> list[str]:
        """The first k pages Hugo lists as related to the page at `path` ([] for a page it does not know)."""
        return [other for other, _ in self.ranked(path)[:k]]

    def ranked(self, path: str) -> list[tuple[str, int]]:
        """Every page Hugo keeps as related to `path`, best first, with its total weight."""
        page = self.pages.get(path)
        if page is None:
            return []
        weight: dict[str, int] = defaultdict(int)
        matches: dict[str, int] = defaultdict(int)
        for index, value in _keywords(page):
            for other in self._postings[(index, value)]:
                if other != path:
                    weight[other] += WEIGHTS[index]
                    matches[other] += 1
        kept = [p for p in weight if weight[p] // matches[p] >= THRESHOLD // matches[p]]
        # Hugo sorts by weight, then newer first; its own order among exact ties is a map's (random).
        kept.sort(key=lambda p: (-weight[p], -self.pages[p].published, p))
        return [(p, weight[p]) for p in kept]


def read_pages(content_dir: Path) -> list[HugoPage]:
    """Every regular page Hugo would build (no section pages, no drafts), with the fields it indexes."""
    pages = []
    for file in discover_posts(content_dir):
        if file.stem == "_index":
            continue
        try:
            text = file.read_text(encoding="utf-8")
            fields, body, _ = split_front_matter(text, file.as_posix())
        except (PostError, OSError, UnicodeDecodeError):
            continue  # Hugo would fail the build; the comparison leaves the page out
        if fields.get("draft"):
            continue
        date = fields.get("date") or ""
        pages.append(HugoPage(
            path=file.relative_to(content_dir).as_posix(),
            keywords=_strings(fields.get("keywords")),
            year=date[:4] if date else "0001",  # Go's zero time formats as year 1
            tags=tuple(fields.get("tags") or ()),
            published=_instant(text[: len(text) - len(body)], date),
        ))
    return pages


def _keywords(page: HugoPage) -> list[tuple[str, str]]:
    return ([("keywords", k) for k in page.keywords] + [("date", page.year)]
            + [("tags", t) for t in page.tags])


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _instant(front_matter: str, day: str) -> float:
    """The page's date as POSIX time, from the full timestamp when it parses (UTC when it has no zone)."""
    raw = _RAW_DATE.search(front_matter)
    for text in (raw.group(1).strip() if raw else "", day):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return 0.0
