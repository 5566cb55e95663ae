"""Series from a built site's own structure, and each series' reading order.

A page is part of series S when it says so (`data-casebook-series="S"` on any element), else when its
parent is a series. The parent is the last breadcrumb above the page (JSON-LD `BreadcrumbList` or a
breadcrumb `<nav>`), else its folder when the site has an index page for it or the folder holds other
articles too (Hugo builds no page for a folder without `_index.md`), else the nearest folder above with an
index page. A parent one folder deep ("/posts/") is a section, not a series, and so is a folder named by
digits (Jekyll's "/2024/05/"); deeper ("/series/tidepool/") it is the series, named by its last folder.
The parts are read in `rel="prev"`/`rel="next"` order when they chain, else in the order the series page
lists them (last mention), else by date and path.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import PurePosixPath

from ingest.built.links import resolve
from ingest.built.page import Page


@dataclass(frozen=True)
class Membership:
    """Where a page sits in its series: the slug and its 1-based place in the reading order."""

    slug: str
    place: int


def assign_series(articles: list[Page], pages: list[Page]) -> tuple[dict[str, Membership], dict[str, str]]:
    """Series of each article (by page path) and the series each hub heads (hub page path -> slug).

    `pages` is every page read, articles or not: a series page that is only a list still makes a series.
    """
    folders = {p.url_path: p for p in pages if p.url_path.endswith("/")}
    shared = Counter(_folder(p.url_path) for p in articles)
    members: dict[str, list[Page]] = defaultdict(list)
    parents: dict[str, str] = {}
    for page in articles:
        parent = _parent(page, folders, shared)
        slug = _slug(page.head.series) if page.head.series else None
        if slug is None and parent is not None and _depth(parent) >= 2 and not _dated(parent):
            slug = PurePosixPath(parent).name
        if slug:
            members[slug].append(page)
            if parent is not None:
                parents.setdefault(slug, parent)
    hubs = {folders[parents[slug]].path: slug for slug in members if parents.get(slug) in folders}
    placed: dict[str, Membership] = {}
    for slug, parts in members.items():
        hub = folders.get(parents.get(slug, ""))
        for place, page in enumerate(_reading_order(parts, hub), start=1):
            placed[page.path] = Membership(slug, place)
    return placed, hubs


def _parent(page: Page, folders: dict[str, Page], shared: Counter[str]) -> str | None:
    crumbs = [resolve(c, page.url_path) for c in page.head.breadcrumbs]
    above = [c for c in crumbs if c and c != page.url_path]
    if above:
        return above[-1]
    own = _folder(page.url_path)
    if own in folders or shared[own] >= 2:
        return own
    for parent in PurePosixPath(own).parents:
        path = parent.as_posix().rstrip("/") + "/"
        if path in folders:
            return path
    return None


def _folder(url_path: str) -> str:
    """The folder a page sits in: "/a/b/" for "/a/b/c/" and for "/a/b/c.html"."""
    return PurePosixPath(url_path.rstrip("/") or "/").parent.as_posix().rstrip("/") + "/"


def _depth(url_path: str) -> int:
    return len([s for s in url_path.split("/") if s])


def _dated(url_path: str) -> bool:
    return PurePosixPath(url_path).name.isdigit()


def _reading_order(parts: list[Page], hub: Page | None) -> list[Page]:
    by_url = {p.url_path: p for p in parts}
    chain = _chain(parts, by_url)
    if chain:
        return chain
    # A series page's own text may name parts in any order before its list of them: the last mention counts.
    listed: dict[str, int] = {}
    if hub is not None and hub.body is not None:
        for number, link in enumerate(hub.body.links):
            target = resolve(link, hub.url_path)
            if target in by_url:
                listed[target] = number
    unlisted = len(hub.body.links) if hub is not None and hub.body is not None else 0
    return sorted(parts, key=lambda p: (listed.get(p.url_path, unlisted), p.head.date or "", p.path))


def _chain(parts: list[Page], by_url: dict[str, Page]) -> list[Page] | None:
    """The parts in prev/next order, when those links join all of them into one line."""
    after: dict[str, str] = {}
    for page in parts:
        following = resolve(page.head.next, page.url_path) if page.head.next else None
        if following in by_url and following != page.url_path:
            after[page.url_path] = following
        before = resolve(page.head.prev, page.url_path) if page.head.prev else None
        if before in by_url and before != page.url_path:
            after.setdefault(before, page.url_path)
    if len(parts) < 2 or len(after) != len(parts) - 1:
        return None
    starts = set(by_url) - set(after.values())
    if len(starts) != 1:
        return None
    order = [starts.pop()]
    while order[-1] in after and len(order) <= len(parts):
        order.append(after[order[-1]])
    return [by_url[u] for u in order] if len(order) == len(parts) else None


def _slug(name: str) -> str | None:
    """A series name as a URL slug, as Hugo urlizes terms ("Logistics Operations" -> "logistics-operations")."""
    kept = "".join(c if unicodedata.category(c)[0] in "LN" or c in "-_" else " " for c in name.strip().lower())
    slug = re.sub(r"\s+", "-", kept.strip())
    return slug or None
