"""One Hugo source file -> Post: metadata, series and hubs, Hugo URL rules, unreadable files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ingest.errors import PostError
from ingest.hugo import discover_posts, read_post
from ingest.site import SiteConfig, read_site_config
from tests.helpers import SHARED

SITE = SiteConfig(base_url="https://blog.example/", permalinks={"posts": "/posts/:slug/"}, build_future=True)
SHARED_SITE = SHARED / "site"


def write(content: Path, rel: str, text: str | bytes) -> Path:
    path = content / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def url_of(tmp_path: Path, rel: str, front: str, site: SiteConfig = SITE) -> str:
    path = write(tmp_path, rel, f"---\n{front}\n---\nText.\n")
    return read_post(path, tmp_path, site).meta.url


def test_post_metadata_comes_from_front_matter_and_path(tmp_path):
    text = (
        '---\ntitle: "Cell routing"\ndate: 2024-03-05\ntags: [go, cells]\ncategories: Architecture\n'
        'description: "How cells route."\nweight: 2\naliases: [/old/cells, "/cells/"]\n---\n'
        "See [the hub](/series/cells/) and [next](../next/).\n"
    )
    path = write(tmp_path, "posts/cell-routing.md", text)
    meta = read_post(path, tmp_path, SITE).meta
    assert meta.path == "posts/cell-routing.md"
    assert (meta.title, meta.section, meta.date, meta.lastmod) == (
        "Cell routing",
        "posts",
        "2024-03-05",
        None,
    )
    assert (meta.tags, meta.categories, meta.weight) == (("go", "cells"), ("Architecture",), 2)
    assert meta.aliases == ("/old/cells/", "/cells/")
    assert meta.content_hash == hashlib.sha256(text.encode()).hexdigest()
    assert meta.links == ("/series/cells/", "/posts/next/")
    assert (meta.is_hub, meta.series) == (False, ())


@pytest.mark.parametrize(("draft", "expected"), [("true", True), ('"true"', True), ("false", False)])
def test_drafts_are_flagged(tmp_path, draft, expected):
    path = write(tmp_path, "posts/a.md", f"---\ntitle: A\ndraft: {draft}\n---\nText.\n")
    assert read_post(path, tmp_path, SITE).draft is expected


@pytest.mark.parametrize(
    ("rel", "front", "series", "is_hub"),
    [
        ("posts/a.md", "series: [cells, go]", ("cells", "go"), False),
        ("posts/a.md", "series: cells", ("cells",), False),
        ("series/cells/part-1.md", "title: P1", ("cells",), False),
        ("series/cells/_index.md", "title: Cells", ("cells",), True),
        ("series/_index.md", "title: Series", (), True),
        ("posts/_index.md", "title: Posts", (), True),
    ],
)
def test_series_come_from_front_matter_or_the_series_folder(tmp_path, rel, front, series, is_hub):
    meta = read_post(write(tmp_path, rel, f"---\n{front}\n---\nText.\n"), tmp_path, SITE).meta
    assert (meta.series, meta.is_hub) == (series, is_hub)


@pytest.mark.parametrize(
    ("rel", "front", "url"),
    [
        ("series/x/a.md", "canonicalURL: https://other.example/x/a/", "https://other.example/x/a/"),
        ("posts/a.md", "url: /custom/path/", "https://blog.example/custom/path/"),
        ("posts/a.md", "url: https://cdn.example/a/", "https://cdn.example/a/"),
        ("posts/Long-Name.md", "slug: short", "https://blog.example/posts/short/"),
        (
            "posts/Long-Name.md",
            "title: 'Hello, World: Part 2!'",
            "https://blog.example/posts/hello-world-part-2/",
        ),
        ("series/x/Part-1.md", "title: P1", "https://blog.example/series/x/part-1/"),
        ("series/x/part-1.md", "slug: first", "https://blog.example/series/x/first/"),
        ("series/x/_index.md", "title: X", "https://blog.example/series/x/"),
        ("about.md", "title: About", "https://blog.example/about/"),
        ("_index.md", "title: Home", "https://blog.example/"),
        ("docs/guide/index.md", "title: Guide", "https://blog.example/docs/guide/"),
    ],
)
def test_urls_follow_hugo_rules(tmp_path, rel, front, url):
    assert url_of(tmp_path, rel, front) == url


def test_permalink_patterns_fill_dates_and_filenames(tmp_path):
    site = SiteConfig(base_url="/", permalinks={"posts": "/:year/:month/:filename/"}, build_future=True)
    assert url_of(tmp_path, "posts/My-Post.md", "date: 2024-03-05", site) == "/2024/03/my-post/"


def test_base_url_with_a_subpath_joins_without_double_slashes(tmp_path):
    site = SiteConfig(base_url="https://x.example/blog/", permalinks={}, build_future=True)
    assert url_of(tmp_path, "posts/a.md", "url: /a/", site) == "https://x.example/blog/a/"


def test_relative_links_resolve_against_the_page_url(tmp_path):
    body = "[p2](./part-2/) [hub](../)\n"
    path = write(tmp_path, "series/x/_index.md", f"---\ntitle: X\n---\n{body}")
    assert read_post(path, tmp_path, SITE).meta.links == ("/series/x/part-2/", "/series/")


def test_title_falls_back_to_the_prettified_filename(tmp_path):
    path = write(tmp_path, "posts/cell-routing_basics.md", "Just text.\n")
    assert read_post(path, tmp_path, SITE).meta.title == "Cell routing basics"


def test_block_lines_count_from_the_top_of_the_file(tmp_path):
    path = write(tmp_path, "posts/a.md", "---\ntitle: A\n---\n\n## Setup\n\nInstall it.\n")
    post = read_post(path, tmp_path, SITE)
    assert post.sections[0].blocks[0].line == 7


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"---\ntitle: A\n---\nfine\ncaf\xe9\n", 5, "not valid UTF-8 (byte 0xe9)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None, "not a text file"),
        (b"x" * (2 * 1024 * 1024 + 1), None, "too large (over 2 MiB)"),
    ],
)
def test_unreadable_files_are_post_errors(tmp_path, data, line, reason):
    path = write(tmp_path, "posts/a.md", data)
    with pytest.raises(PostError) as caught:
        read_post(path, tmp_path, SITE)
    assert (caught.value.line, caught.value.reason) == (line, reason)


def test_discover_finds_markdown_only_skipping_hidden_and_outside_links(tmp_path):
    content, outside = tmp_path / "content", tmp_path / "outside"
    for rel in ("posts/b.md", "a.markdown", "posts/.drafts/c.md", "posts/img.png", ".hidden/d.md"):
        write(content, rel, "x")
    write(outside, "e.md", "x")
    (content / "linked").symlink_to(outside, target_is_directory=True)
    assert discover_posts(content) == [content / "a.markdown", content / "posts" / "b.md"]


def test_site_config_reads_base_url_and_permalinks(tmp_path):
    (tmp_path / "hugo.toml").write_text(
        'baseURL = "https://x.example"\n[permalinks]\n  posts = "/p/:slug/"\n'
    )
    assert read_site_config(tmp_path) == SiteConfig("https://x.example/", {"posts": "/p/:slug/"}, False)
    assert read_site_config(tmp_path / "nowhere") == SiteConfig("/", {}, True)


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_SITE.is_dir(), reason="the real blog in ../shared is absent")
def test_every_real_post_parses():
    site = read_site_config(SHARED_SITE)
    content = SHARED_SITE / "content"
    posts = {}
    for path in discover_posts(content):
        post = read_post(path, content, site)
        posts[post.meta.path] = post
    assert len(posts) > 300
    hub = posts["series/alipay-double-11/_index.md"].meta
    assert (hub.url, hub.series, hub.is_hub) == (
        "https://tanhdev.com/series/alipay-double-11/",
        ("alipay-double-11",),
        True,
    )
    assert all(post.meta.url.startswith("https://tanhdev.com/") for post in posts.values())
