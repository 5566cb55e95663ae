"""Links of a built page as the URL paths of the site's pages ("../b/" on "/a/x/" -> "/a/b/")."""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

_FILE = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_PAGE = re.compile(r"\.html?$", re.IGNORECASE)


def resolve(href: str | None, page_path: str, site_url: str = "") -> str | None:
    """The site URL path a link leads to, or None for another site, a fragment of the page, or a file.

    Absolute links count when they start with `site_url` (the site's base URL), or have no host.
    """
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    if site_url and href.startswith(site_url):
        href = "/" + href[len(site_url):].lstrip("/")
    parts = urlsplit(urljoin(page_path, href))
    if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.netloc not in site_url):
        return None
    path = re.sub(r"/{2,}", "/", unquote(parts.path) or "/")
    name = path.rsplit("/", 1)[-1]
    if name in ("index.html", "index.htm"):
        return path[: -len(name)]
    if _FILE.search(name) and not _PAGE.search(name):
        return None  # an image, a feed, a PDF: not a page
    return path
