"""The real blog built by Hugo with the test theme, read as built HTML: the same posts and series as its Markdown,
and every passage's deep link lands on an element id of its page. No model: reading and cutting only."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ingest.built import BuiltSite, read_built_site
from ingest.hugo import discover_posts, read_post
from ingest.series import collect_series
from ingest.site import read_site_config
from tests.ingest.built.sites import Unavailable, build_hugo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_built(shared_site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuiltSite]:
    """../shared/site built once by hugo 0.111 with the test theme, and read."""
    try:
        public = build_hugo(shared_site / "content", tmp_path_factory.mktemp("real-built"),
                            config=shared_site / "hugo.toml")
    except Unavailable as e:
        pytest.skip(str(e))
    return public, read_built_site(public)


def markdown_urls(site: Path) -> dict[str, tuple[str, ...]]:
    """URL path -> series of every published Markdown post."""
    config = read_site_config(site)
    posts = [read_post(path, site / "content", config) for path in discover_posts(site / "content")]
    return {urlsplit(p.meta.url).path: p.meta.series for p in posts if not p.draft}


def test_the_built_blog_holds_the_markdown_posts_but_the_empty_category_pages(real_built: tuple[Path, BuiltSite],
                                                                              shared_site: Path) -> None:
    built = real_built[1]
    markdown = markdown_urls(shared_site)
    html = {urlsplit(p.meta.url).path for p in built.posts}
    assert not built.broken
    assert html <= set(markdown)
    # Category pages hold only front matter: Hugo renders them as tag-like lists, which are no articles.
    assert all(u.startswith("/categories/") for u in set(markdown) - html)


def test_series_and_their_order_match_the_markdown(real_built: tuple[Path, BuiltSite], shared_site: Path) -> None:
    built = real_built[1]
    markdown = {s.slug: len(s.posts) for s in collect_series(
        [read_post(p, shared_site / "content", read_site_config(shared_site)).meta
         for p in discover_posts(shared_site / "content")], "/")}
    html = {s.slug: len(s.posts) for s in collect_series([p.meta for p in built.posts], "/")}
    # Three posts name a series in front matter only, outside any series folder: the built pages do not show it.
    assert {slug: n for slug, n in markdown.items() if n > 1 and slug in html} == {s: n for s, n in html.items()}
    assert len(set(markdown) - set(html)) <= 3


def test_every_passage_deep_link_lands_on_an_element_id(real_built: tuple[Path, BuiltSite]) -> None:
    public, built = real_built
    missing = []
    for post in built.posts:
        ids = set(re.findall(r'\sid="([^"]+)"', (public / post.meta.path).read_text(encoding="utf-8")))
        missing += [(post.meta.path, s.anchor) for s in post.sections if s.anchor and s.anchor not in ids]
    assert not missing, missing[:10]
