"""A generator's output folder into Posts: read every page, keep the articles, give them URLs and series."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from index.records import PostMeta, SkippedPost
from ingest.built.kinds import not_an_article
from ingest.built.links import resolve
from ingest.built.page import Page, read_page
from ingest.built.series import assign_series
from ingest.document import Post, Section
from ingest.errors import PostError
from ingest.hugo import discover_posts

SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class BuiltSite:
    """What a built folder holds: its articles as posts, the pages that could not be read, and the rest."""

    posts: list[Post]
    broken: list[SkippedPost]  # unreadable pages, reported as `path:line: reason`
    not_articles: list[SkippedPost]  # redirects, lists, 404s ...: recognised and left out
    base_url: str


def discover_pages(built_dir: Path) -> list[Path]:
    """Every HTML file of the built folder, sorted; hidden folders and links out of it skipped."""
    return discover_posts(built_dir, SUFFIXES)


def read_built_site(built_dir: Path, base_url: str | None = None) -> BuiltSite:
    """Read every page; articles become posts with their public URL, series, aliases and links."""
    pages: list[Page] = []
    broken: list[SkippedPost] = []
    for path in discover_pages(built_dir):
        try:
            pages.append(read_page(path, built_dir))
        except PostError as error:
            broken.append(error.record)
    marked = any(p.has_body_marker for p in pages)
    articles: list[Page] = []
    not_articles: list[SkippedPost] = []
    for page in pages:
        reason = not_an_article(page.url_path, page.skip, page.has_body_marker, page.body, marked)
        if reason:
            not_articles.append(SkippedPost(page.path, None, reason))
        else:
            articles.append(page)
    base = _base_url(base_url, pages)
    # Redirect pages are the aliases of the page they lead to.
    aliases: dict[str, list[str]] = {}
    for page in pages:
        if page.head.refresh and (target := resolve(page.head.refresh, page.url_path, base)):
            aliases.setdefault(target, []).append(page.url_path)
    listed = [p for p in pages if not p.head.refresh]
    membership, hubs = assign_series(articles, listed)
    folders_with_pages = {str(PurePosixPath(p.url_path).parent) + "/" for p in articles}
    posts = []
    for page in articles:
        member = membership.get(page.path)
        hub_of = hubs.get(page.path)
        series = (hub_of,) if hub_of else (member.slug,) if member else ()
        meta = PostMeta(
            path=page.path, title=page.head.title or PurePosixPath(page.url_path).name or "Home",
            url=_url(page, base), section=_section(page.url_path), series=series, tags=page.head.tags,
            categories=(), date=page.head.date, lastmod=page.head.lastmod, description=page.head.description,
            weight=member.place if member and not hub_of else 0,
            aliases=tuple(aliases.get(page.url_path, ())),
            is_hub=page.url_path.endswith("/") and page.url_path in folders_with_pages,
            content_hash=page.content_hash,
            links=tuple(dict.fromkeys(link for href in (page.body.links if page.body else ())
                                      if (link := resolve(href, page.url_path, base)) and link != page.url_path)),
        )
        sections = page.body.sections if page.body else ()
        if meta.is_hub:
            sections = _without_listing(sections, {p.head.title for p in articles
                                                   if p.url_path.startswith(page.url_path) and p is not page})
        posts.append(Post(meta=meta, sections=sections, draft=False))
    return BuiltSite(posts, broken, not_articles, base)


def _without_listing(sections: tuple[Section, ...], below: set[str]) -> tuple[Section, ...]:
    """A section page without the list of its pages the generator prints: each item only a title of one of them.

    The page's own words stay, a reading list it wrote among them; the generator's list would give the
    hub every part's title, which its Markdown never holds.
    """
    kept = []
    for section in sections:
        blocks = tuple(b for b in section.blocks if not (b.kind == "links" and _only_titles(b.text, below)))
        if blocks:
            kept.append(Section(section.heading_path, section.anchor, blocks))
    return tuple(kept)


def _only_titles(text: str, titles: set[str]) -> bool:
    items = [line.strip().removeprefix("- ").strip() for line in text.splitlines() if line.strip()]
    return len(items) >= 2 and all(item in titles for item in items)


def _base_url(given: str | None, pages: list[Page]) -> str:
    """The site's base URL: as given, else what the pages' canonical links agree on, else "/"."""
    if given:
        return given if given.endswith("/") else given + "/"
    votes: Counter[str] = Counter()
    for page in pages:
        canonical = page.head.canonical or ""
        if canonical.startswith(("http://", "https://")) and canonical.endswith(page.url_path):
            votes[canonical[: len(canonical) - len(page.url_path)] + "/"] += 1
    return votes.most_common(1)[0][0] if votes else "/"


def _url(page: Page, base: str) -> str:
    """The page's public URL: its canonical link when that names this page, else the base URL and its path."""
    canonical = page.head.canonical or ""
    if canonical.startswith(("http://", "https://")) and canonical.endswith(page.url_path):
        return canonical
    return base.rstrip("/") + page.url_path


def _section(url_path: str) -> str:
    """The first folder of the URL path ("posts" for /posts/x/); "" for a page at the top."""
    segments = [s for s in url_path.split("/") if s]
    return segments[0] if len(segments) > 1 else ""
