"""Judged files name posts by their Hugo content files; an index read from the built site names its pages.

The eval maps one to the other through the public URL path both give the same post, so a built-HTML index
is scored on the same judgments as the Markdown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from index.records import PostMeta
from index.scope import norm_url_path
from ingest.errors import PostError
from ingest.hugo import discover_posts, read_post
from ingest.pipeline import BUILT_READER
from ingest.site import read_site_config


@dataclass(frozen=True)
class Names:
    """Content path <-> index path for the posts both name; any other path maps to itself."""

    to_content: dict[str, str]
    to_index: dict[str, str]

    def content(self, index_path: str) -> str:
        """The content file of an indexed page."""
        return self.to_content.get(index_path, index_path)

    def index(self, content_path: str) -> str:
        """The indexed page of a content file."""
        return self.to_index.get(content_path, content_path)


def is_built(manifest_extra: dict[str, object]) -> bool:
    """Whether an index version was read from a built site (its posts are named by page, not content file)."""
    return manifest_extra.get("reader") == BUILT_READER


def names(site: Path, posts: list[PostMeta]) -> Names:
    """Pair each indexed page with the content file Hugo builds at the same URL path."""
    config = read_site_config(site)
    by_url: dict[str, str] = {}
    for path in discover_posts(site / "content"):
        try:
            post = read_post(path, site / "content", config)
        except PostError:
            continue
        by_url.setdefault(norm_url_path(urlsplit(post.meta.url).path), post.meta.path)
    to_content = {p.path: by_url[u] for p in posts if (u := norm_url_path(urlsplit(p.url).path)) in by_url}
    return Names(to_content, {content: page for page, content in to_content.items()})
