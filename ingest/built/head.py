"""A built page's metadata, from the standard tags generators write: <title>, meta, Open Graph, JSON-LD, links."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ingest.built.tree import Element, elements, strings, text_of

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"]+)", re.IGNORECASE)
ARTICLE_TYPES = {"blogposting", "article", "newsarticle", "techarticle", "scholarlyarticle", "report"}


@dataclass(frozen=True)
class Head:
    """What a page says about itself: the fields a post's metadata is made of, and how it links to others."""

    title: str
    description: str
    date: str | None  # "2026-05-02", as written in the page's own offset
    lastmod: str | None
    tags: tuple[str, ...]
    lang: str
    canonical: str | None  # the canonical URL as written
    refresh: str | None  # target of a meta refresh: the page is a redirect
    noindex: bool
    prev: str | None  # rel="prev" / rel="next" targets as written
    next: str | None
    breadcrumbs: tuple[str, ...]  # URLs of the crumbs above the page, outermost first
    series: str | None  # data-casebook-series


def read_head(root: Element) -> Head:
    """Read the metadata of one parsed page; each field from the first source that has it."""
    meta = _meta(root)
    ld = _json_ld(root)
    post = next((item for item in ld if _types(item) & ARTICLE_TYPES), {})
    # A site banner is often an <h1> too: the article's own comes first, then one outside headers and menus.
    title = (meta.get("og:title") or _text(post.get("headline")) or _first_text(root, "//main//h1 | //article//h1")
             or _first_text(root, "//h1[not(ancestor::header or ancestor::nav)]") or _first_text(root, "//title"))
    keywords = post.get("keywords") or meta.get("keywords")
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",")]
    tags = (meta.get_all("article:tag") or [str(k) for k in keywords or () if str(k).strip()]
            or meta.get_all("tags") or _tag_links(root))
    refresh = next((_REFRESH_URL.search(m.get("content") or "") for m in root.iter("meta")
                    if (m.get("http-equiv") or "").lower() == "refresh"), None)
    series = strings(root, "//@data-casebook-series")
    return Head(
        title=_clean(title),
        description=_clean(meta.get("description") or meta.get("og:description") or _text(post.get("description"))),
        date=_day(meta.get("article:published_time") or _text(post.get("datePublished")) or _time(root)),
        lastmod=_day(meta.get("article:modified_time") or _text(post.get("dateModified"))),
        tags=tuple(dict.fromkeys(t for t in tags if t)),
        lang=(root.get("lang") or "").strip(),
        canonical=_link(root, "canonical"),
        refresh=refresh.group(1).strip() if refresh else None,
        noindex="noindex" in (meta.get("robots") or "").lower(),
        prev=_link(root, "prev"),
        next=_link(root, "next"),
        breadcrumbs=_breadcrumbs(root, ld),
        series=_clean(str(series[0])) or None if series else None,
    )


class _Meta(dict[str, str]):
    """<meta> content by name or property (lower case); the first one wins, get_all keeps every one."""

    def __init__(self) -> None:
        super().__init__()
        self.all: dict[str, list[str]] = {}

    def get_all(self, key: str) -> list[str]:
        return self.all.get(key, [])


def _meta(root: Element) -> _Meta:
    found = _Meta()
    for tag in root.iter("meta"):
        key = (tag.get("name") or tag.get("property") or "").strip().lower()
        content = tag.get("content")
        if key and content is not None:
            found.setdefault(key, content.strip())
            found.all.setdefault(key, []).append(content.strip())
    return found


def _json_ld(root: Element) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page (@graph lists unpacked); a script that is not JSON is passed over."""
    items: list[dict[str, Any]] = []
    for script in elements(root, "//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        for item in stack:
            if isinstance(item, dict):
                items.append(item)
                graph = item.get("@graph")
                items += [g for g in graph if isinstance(g, dict)] if isinstance(graph, list) else []
    return items


def _types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _breadcrumbs(root: Element, ld: list[dict[str, Any]]) -> tuple[str, ...]:
    """Crumb URLs from a JSON-LD BreadcrumbList, else from a breadcrumb <nav> (or list) of links."""
    for item in ld:
        if "breadcrumblist" in _types(item) and isinstance(item.get("itemListElement"), list):
            crumbs = sorted((e for e in item["itemListElement"] if isinstance(e, dict)), key=_position)
            urls = [_crumb_url(e) for e in crumbs]
            return tuple(u for u in urls if u)
    trail = elements(root, "//*[@aria-label][contains(translate(@aria-label, 'BREADCUMS', 'breadcums'), 'breadcrumb')]"
                       " | //*[@class][contains(@class, 'breadcrumb')]")
    if trail:
        return tuple(str(a.get("href")) for a in trail[0].iter("a") if a.get("href"))
    return ()


def _position(element: dict[str, Any]) -> int:
    position = element.get("position")
    return position if isinstance(position, int) else 0


def _crumb_url(element: dict[str, Any]) -> str | None:
    item = element.get("item")
    if isinstance(item, dict):
        item = item.get("@id") or item.get("url")
    return str(item) if item else None


def _tag_links(root: Element) -> list[str]:
    """Tags as the page links to them: rel="tag", or links into the site's /tag/ or /tags/ pages."""
    found = []
    for a in elements(root, "//a[@href]"):
        segments = [s for s in urlsplit(a.get("href") or "").path.split("/") if s]
        if "tag" in (a.get("rel") or "").split() or (len(segments) >= 2 and segments[-2] in ("tag", "tags")):
            found.append(_clean(text_of(a)).lstrip("#"))
    return found


def _link(root: Element, rel: str) -> str | None:
    for element in elements(root, "//link[@href] | //a[@href]"):
        if rel in (element.get("rel") or "").lower().split():
            return str(element.get("href"))
    return None


def _time(root: Element) -> str | None:
    found = strings(root, "(//main//time[@datetime] | //article//time[@datetime])[1]/@datetime")
    return str(found[0]) if found else None


def _first_text(root: Element, path: str) -> str:
    found = elements(root, path)
    return _clean(text_of(found[0])) if found else ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _day(text: str | None) -> str | None:
    match = _DAY.match((text or "").strip())
    return match.group(0) if match else None
