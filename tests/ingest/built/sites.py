"""Blogs of our fixture posts built by real static-site generators, as each one's users write and build them.

The posts are tests/posts' own (read with ingest's front-matter reader), written into each generator's
input format at test time: two series in `series/<slug>/` folders (a hub page and its parts) and two
standalone posts. A generator that is not installed gives one line saying why, and its tests skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.hugo import build_with_test_theme
from ingest.frontmatter import split_front_matter
from tests.helpers import FIXTURE_POSTS, TESTS, fixture_hugo_config

GENERATORS_DIR = TESTS / "generators"
TIMEOUT_S = 300
SAMPLE = ("series/lighthouse/_index.md", "series/lighthouse/part-1-double-entry.md",
          "series/lighthouse/part-2-idempotency-keys.md", "series/lighthouse/part-3-reconciliation.md",
          "series/tidepool/_index.md", "series/tidepool/part-1-backpressure.md",
          "series/tidepool/part-2-exactly-once-sinks.md", "posts/caching-redis.md", "posts/k8s-pod-autoscaling.md")


class Unavailable(Exception):
    """The generator cannot be installed or run here; the message is the one line the skip shows."""


@dataclass(frozen=True)
class Sample:
    """One fixture post, ready to be written in any generator's format."""

    folder: str  # "series/lighthouse" or "posts"
    slug: str  # "part-1-double-entry"; "index" for a series hub
    title: str
    description: str
    date: str  # "2026-01-13T10:00:00+07:00"
    tags: tuple[str, ...]
    body: str  # Markdown

    @property
    def is_hub(self) -> bool:
        return self.slug == "index"


def samples() -> list[Sample]:
    """The sample posts, front matter read the way ingest reads it."""
    found = []
    for name in SAMPLE:
        path = FIXTURE_POSTS / name
        fields, body, _ = split_front_matter(path.read_text(encoding="utf-8"), name)
        folder, stem = name.rsplit("/", 1)
        slug = "index" if stem == "_index.md" else fields.get("slug") or stem.removesuffix(".md")
        found.append(Sample(folder, slug, fields["title"], fields.get("description", ""),
                            str(fields.get("date") or "2026-01-01T00:00:00+07:00"), tuple(fields.get("tags", ())),
                            body.strip() + "\n"))
    return found


def _front(fields: dict[str, object]) -> str:
    return "---\n" + yaml.safe_dump(fields, sort_keys=False, allow_unicode=True) + "---\n\n"


def _run(command: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
                              env={**os.environ, **(env or {})})
    except FileNotFoundError as e:
        raise Unavailable(f"{what} is not installed ({e.filename})") from None
    if done.returncode != 0:
        raise AssertionError(f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def build_hugo(content: Path, work: Path, base_url: str | None = None, config: Path | None = None) -> Path:
    """Debian's hugo over a content folder with the test theme, as the benchmark and the browser tests build.

    Without `config` (the site's hugo.toml), a new site's config; `base_url` overrides the config's.
    """
    if shutil.which("hugo") is None:
        raise Unavailable("hugo is not installed (apt-get install hugo; make test installs it as root)")
    return build_with_test_theme(content, config or fixture_hugo_config(work), work, base_url)


def build_jekyll(work: Path) -> Path:
    """Debian's jekyll with its minima theme and jekyll-seo-tag, as `jekyll new` sets a blog up."""
    if shutil.which("jekyll") is None:
        raise Unavailable("jekyll is not installed (apt-get install jekyll jekyll-theme-minima ruby-jekyll-seo-tag "
                          "ruby-jekyll-feed; make test installs them as root)")
    site = work / "jekyll"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text('title: Fixture blog\nurl: "https://jekyll.example"\ntheme: minima\n'
                                      "plugins: [jekyll-feed, jekyll-seo-tag]\n", encoding="utf-8")
    (site / "index.md").write_text("---\nlayout: home\n---\n", encoding="utf-8")
    for post in samples():
        fields = {"layout": "page" if post.is_hub else "post", "title": post.title,
                  "description": post.description, "date": post.date.replace("T", " "), "tags": list(post.tags)}
        if post.folder == "posts":  # blog posts proper: _posts/YYYY-MM-DD-slug.md, served as /YYYY/MM/DD/slug.html
            target = site / "_posts" / f"{post.date[:10]}-{post.slug}.md"
        else:  # a series is a folder of pages with an index page
            target = site / post.folder / f"{post.slug}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_front(fields) + post.body, encoding="utf-8")
    _run(["jekyll", "build", "--quiet", "--source", str(site), "--destination", str(site / "_site")], site, "jekyll")
    return site / "_site"


PELICAN_CONFIG = """\
SITENAME = "Fixture blog"
SITEURL = "https://pelican.example"
TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LANG = "en"
PATH = "content"
# Each series is a category, served as series/<slug>/ with its parts below it.
ARTICLE_URL = "series/{category}/{slug}/"
ARTICLE_SAVE_AS = "series/{category}/{slug}/index.html"
CATEGORY_URL = "series/{slug}/"
CATEGORY_SAVE_AS = "series/{slug}/index.html"
PAGE_URL = "posts/{slug}/"
PAGE_SAVE_AS = "posts/{slug}/index.html"
MARKDOWN = {"extension_configs": {"markdown.extensions.extra": {}, "markdown.extensions.toc": {},
                                  "markdown.extensions.codehilite": {"css_class": "highlight"}},
            "output_format": "html5"}
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
"""


def _python_tool(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise Unavailable(f"{module} is not installed (it comes with the dev extra: pip install -e '.[dev]')")


def build_pelican(work: Path) -> Path:
    """Pelican from PyPI with its default theme: series parts as articles in a category each, posts as pages."""
    _python_tool("pelican")
    site = work / "pelican"
    (site / "content" / "pages").mkdir(parents=True)
    (site / "pelicanconf.py").write_text(PELICAN_CONFIG, encoding="utf-8")
    for post in samples():
        if post.is_hub:
            continue  # the category page lists a series' parts
        header = {"Title": post.title, "Date": post.date[:16].replace("T", " "), "Slug": post.slug,
                  "Tags": ", ".join(post.tags), "Summary": post.description}
        if post.folder == "posts":
            target = site / "content" / "pages" / f"{post.slug}.md"
        else:
            header["Category"] = post.folder.split("/")[-1]
            target = site / "content" / f"{post.slug}.md"
        target.write_text("".join(f"{k}: {v}\n" for k, v in header.items() if v) + "\n" + post.body,
                          encoding="utf-8")
    _run([sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output", "-q"], site,
         "pelican")
    return site / "output"


def build_mkdocs(work: Path) -> Path:
    """MkDocs from PyPI with its default theme; folders with an index.md are sections."""
    _python_tool("mkdocs")
    site = work / "mkdocs"
    docs = site / "docs"
    docs.mkdir(parents=True)
    (site / "mkdocs.yml").write_text("site_name: Fixture blog\nsite_url: https://mkdocs.example/\n", encoding="utf-8")
    (docs / "index.md").write_text("# Fixture blog\n\n- [Lighthouse](series/lighthouse/index.md)\n"
                                   "- [Tidepool](series/tidepool/index.md)\n", encoding="utf-8")
    for post in samples():
        target = docs / post.folder / f"{post.slug}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        fields = {"title": post.title, "description": post.description, "date": post.date}
        target.write_text(_front(fields) + f"# {post.title}\n\n" + post.body, encoding="utf-8")
    _run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(site / "site")], site, "mkdocs")
    return site / "site"


ELEVENTY_CONFIG = """\
import { IdAttributePlugin } from "@11ty/eleventy";

export default function (eleventyConfig) {
  eleventyConfig.addPlugin(IdAttributePlugin);
}
"""
ELEVENTY_LAYOUT = """\
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }} · Fixture blog</title>
  <meta name="description" content="{{ description }}">
  <link rel="canonical" href="https://eleventy.example{{ page.url }}">
  <meta property="article:published_time" content="{{ page.date.toISOString() }}">
  {%- for tag in tags %}
  <meta property="article:tag" content="{{ tag }}">
  {%- endfor %}
</head>
<body>
  <header><a href="/">Fixture blog</a></header>
  <main>
    <h1>{{ title }}</h1>
    {{ content | safe }}
  </main>
  <footer>Built with Eleventy.</footer>
</body>
</html>
"""


def build_eleventy(work: Path) -> Path:
    """Eleventy from npm (tests/generators/package-lock.json): Markdown posts through a Nunjucks layout."""
    binary = GENERATORS_DIR / "node_modules" / ".bin" / "eleventy"
    if not binary.exists():
        raise Unavailable("eleventy is not installed (cd tests/generators && npm ci; make test runs it)")
    site = work / "eleventy"
    (site / "_includes").mkdir(parents=True)
    (site / "eleventy.config.js").write_text(ELEVENTY_CONFIG, encoding="utf-8")
    (site / "_includes" / "post.njk").write_text(ELEVENTY_LAYOUT, encoding="utf-8")
    (site / "package.json").write_text(json.dumps({"type": "module"}), encoding="utf-8")
    (site / "node_modules").symlink_to(GENERATORS_DIR / "node_modules")
    for post in samples():
        target = site / post.folder / f"{post.slug}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        fields = {"layout": "post.njk", "title": post.title, "description": post.description, "date": post.date,
                  "tags": list(post.tags)}
        target.write_text(_front(fields) + post.body, encoding="utf-8")
    _run([str(binary), "--quiet", "--input", ".", "--output", "_site"], site, "eleventy")
    return site / "_site"


GENERATORS: dict[str, Callable[[Path], Path]] = {
    "jekyll": build_jekyll, "pelican": build_pelican, "mkdocs": build_mkdocs, "eleventy": build_eleventy}
