"""Which built pages are articles: redirects, 404s, pagination, tag lists and other lists of links are not."""

from __future__ import annotations

import re

from ingest.built.body import Body
from ingest.built.head import Head

# First URL segments generators give their taxonomy and archive pages (Hugo, Jekyll, Pelican, Eleventy).
TAXONOMY_ROOTS = frozenset({"tags", "tag", "categories", "category", "authors", "author", "archives", "archive",
                            "tags.html", "categories.html", "authors.html", "archives.html"})
# "page/2/" (Hugo, Eleventy), "page2/" (Jekyll), "index2.html" (Pelican)
_PAGED = re.compile(r"(page|index)\d+(\.html?)?")
# A page whose own prose is shorter than this and that links to other pages is a list, not an article.
LIST_PROSE_WORDS = 25
LIST_LINKS = 2

REDIRECT = "redirect (meta refresh)"


def before_body(url_path: str, head: Head, is_page: bool, ignored: bool) -> str | None:
    """Why a page is no article, when its address or its head tell: its body need not be read."""
    segments = [s for s in url_path.split("/") if s]
    if not is_page:
        return "an HTML fragment, not a page"
    if head.refresh:
        return REDIRECT
    if head.noindex:
        return "marked noindex"
    if ignored:
        return "marked data-casebook-ignore"
    if segments and segments[-1] in ("404.html", "404"):
        return "not-found page (404)"
    if _paginated(segments):
        return "pagination"
    if segments and segments[0] in TAXONOMY_ROOTS:
        return "tag, category, author or archive list"
    return None


def not_an_article(url_path: str, skip: str | None, has_body_marker: bool, body: Body | None,
                   site_marks_bodies: bool) -> str | None:
    """Why a read page is no article to index, or None when it is one."""
    segments = [s for s in url_path.split("/") if s]
    if skip:
        return skip
    if site_marks_bodies and not has_body_marker:
        return "no data-casebook-body (the site marks its articles)"
    if body is None or not body.sections:
        return "no readable text"
    if body.articles >= 2 or (body.prose_words < LIST_PROSE_WORDS and len(set(body.links)) >= LIST_LINKS):
        return "home page: a list of links" if not segments else "a list of links (section or archive page)"
    return None


def _paginated(segments: list[str]) -> bool:
    numbered = any(s == "page" and i + 1 < len(segments) and segments[i + 1].split(".")[0].isdigit()
                   for i, s in enumerate(segments))
    return numbered or any(_PAGED.fullmatch(s) for s in segments)
