"""ingest --built: built HTML pages into posts (body, metadata, non-articles, series, broken pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.built import read_built_site
from ingest.document import Post

HEAD = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Quarry Notes</title>{meta}
</head>"""


def page(title: str, body: str, meta: str = "") -> str:
    """A built page the way a theme writes one: site header and footer around the article."""
    return (HEAD.format(title=title, meta=meta) + "<body><header><nav><a href='/'>Quarry Notes</a>"
            "<a href='/tags/'>Tags</a></nav></header>" + body + "<footer><p>Copyright Quarry Notes</p></footer>"
            "</body></html>")


ARTICLE = page("Sharpening chisels", """
<main><article>
  <h1>Sharpening chisels</h1>
  <p>A dull chisel tears the grain. Hone the bevel on a fine stone until a burr forms along the edge.</p>
  <nav id="TableOfContents"><ul><li><a href="#honing">Honing</a></li></ul></nav>
  <h2 id="honing">Honing <a class="anchor" href="#honing">#</a></h2>
  <p>Keep the angle steady at <code>25</code> degrees; a guide helps.</p>
  <h3 id="stropping">Stropping</h3>
  <ul><li>Leather strop</li><li>Green compound, <em>lightly</em></li></ul>
  <pre><code class="language-text">strop 20 passes each side</code></pre>
  <aside class="related"><a href="/posts/planes/">Related: tuning planes</a></aside>
  <div data-casebook-ignore><p>Subscribe for weekly shop notes.</p></div>
  <h2>Storage</h2>
  <p>Roll the chisels in canvas so the edges never touch. See <a href="../planes/">the plane notes</a>.</p>
</article></main>""", meta="""
<meta name="description" content="Bevel, burr and strop: a sharp chisel in ten minutes.">
<link rel="canonical" href="https://quarry.example/posts/chisels/">
<meta property="article:published_time" content="2025-03-04T09:00:00+01:00">
<meta property="article:tag" content="tools"><meta property="article:tag" content="sharpening">""")


def build(root: Path, pages: dict[str, str]) -> Path:
    """Write pages (relative path -> HTML) as a generator's output folder."""
    for name, html in pages.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    return root


def only(posts: list[Post], path: str) -> Post:
    return next(p for p in posts if p.meta.path == path)


def test_article_body_is_the_article_without_site_furniture(tmp_path: Path) -> None:
    site = read_built_site(build(tmp_path, {"posts/chisels/index.html": ARTICLE}))
    post = only(site.posts, "posts/chisels/index.html")
    text = "\n".join(b.text for s in post.sections for b in s.blocks)
    assert "Hone the bevel" in text and "strop 20 passes" in text
    for furniture in ("Quarry Notes", "Copyright", "Related: tuning planes", "Subscribe", "Tags"):
        assert furniture not in text


def test_sections_are_cut_at_headings_and_anchored_by_their_ids(tmp_path: Path) -> None:
    site = read_built_site(build(tmp_path, {"posts/chisels/index.html": ARTICLE}))
    sections = only(site.posts, "posts/chisels/index.html").sections
    assert [(s.heading_path, s.anchor) for s in sections] == [
        ((), ""), (("Honing",), "honing"), (("Honing", "Stropping"), "stropping"), (("Storage",), "")]
    assert [b.kind for b in sections[2].blocks] == ["text", "code"]
    assert sections[2].blocks[0].text == "- Leather strop\n- Green compound, lightly"


def test_metadata_comes_from_open_graph_meta_and_canonical_link(tmp_path: Path) -> None:
    meta = only(read_built_site(build(tmp_path, {"posts/chisels/index.html": ARTICLE})).posts,
                "posts/chisels/index.html").meta
    assert (meta.title, meta.url, meta.date) == ("Sharpening chisels", "https://quarry.example/posts/chisels/",
                                                 "2025-03-04")
    assert meta.description == "Bevel, burr and strop: a sharp chisel in ten minutes."
    assert meta.tags == ("tools", "sharpening") and meta.section == "posts"
    assert meta.links == ("/posts/planes/",)


def test_json_ld_fills_what_open_graph_lacks(tmp_path: Path) -> None:
    ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": '
          '"BlogPosting", "headline": "Gluing end grain", "datePublished": "2024-11-02", "keywords": '
          '"glue, joinery", "description": "Size the end grain first."}]}</script>')
    html = page("x", "<main><p>Thin the glue and let the end grain drink it before the joint closes.</p></main>", ld)
    meta = read_built_site(build(tmp_path, {"glue.html": html}), base_url="https://quarry.example").posts[0].meta
    assert (meta.title, meta.date, meta.tags) == ("Gluing end grain", "2024-11-02", ("glue", "joinery"))
    assert meta.url == "https://quarry.example/glue.html" and meta.description == "Size the end grain first."


def test_an_explicit_body_marker_wins_and_unmarked_pages_are_left_out(tmp_path: Path) -> None:
    marked = page("Oil finishes", "<main><div class='promo'><p>Buy our oil now, limited stock of bottles left "
                  "for the season.</p></div><div data-casebook-body><p>Wipe on thin coats of oil and wait a day "
                  "between them.</p></div></main>")
    site = read_built_site(build(tmp_path, {"oil/index.html": marked, "about/index.html": ARTICLE}))
    assert [p.meta.path for p in site.posts] == ["oil/index.html"]
    assert "Buy our oil" not in site.posts[0].sections[0].blocks[0].text
    assert [(s.path, s.reason) for s in site.not_articles] == [
        ("about/index.html", "no data-casebook-body (the site marks its articles)")]


LIST = page("Tag: tools", "<main><h1>Tools</h1><ul><li><a href='/posts/chisels/'>Sharpening chisels</a></li>"
            "<li><a href='/posts/planes/'>Tuning planes</a></li></ul></main>")


@pytest.mark.parametrize(("name", "html", "reason"), [
    ("old/index.html", '<html><head><meta http-equiv="refresh" content="0; url=/posts/chisels/"></head></html>',
     "redirect (meta refresh)"),
    ("404.html", page("Not found", "<main><p>Nothing lives at this address any more, sorry about that.</p></main>"),
     "not-found page (404)"),
    ("posts/page/2/index.html", LIST, "pagination"),
    ("tags/tools/index.html", LIST, "tag, category, author or archive list"),
    ("posts/index.html", LIST, "a list of links (section or archive page)"),
    ("index.html", LIST, "home page: a list of links"),
    ("hidden/index.html", page("x", "<main><p>Draft</p></main>", '<meta name="robots" content="noindex">'),
     "marked noindex"),
    ("snippet.html", "<p>A fragment a theme includes, not a page.</p>", "an HTML fragment, not a page"),
])
def test_pages_that_are_not_articles_are_recognised_and_reported(tmp_path: Path, name: str, html: str,
                                                                 reason: str) -> None:
    site = read_built_site(build(tmp_path, {name: html, "posts/chisels/index.html": ARTICLE}))
    assert [p.meta.path for p in site.posts] == ["posts/chisels/index.html"]
    assert [(s.path, s.reason) for s in site.not_articles] == [(name, reason)]


def test_a_redirect_page_becomes_an_alias_of_its_target(tmp_path: Path) -> None:
    redirect = '<html><head><meta http-equiv="refresh" content="0; url=https://quarry.example/posts/chisels/"></head></html>'
    site = read_built_site(build(tmp_path, {"chisel-tips/index.html": redirect, "posts/chisels/index.html": ARTICLE}))
    assert site.posts[0].meta.aliases == ("/chisel-tips/",)


@pytest.mark.parametrize(("data", "where"), [
    (b"<html><body><main><p>caf\xe9</p>\n<p>\xff</p></main></body></html>", "bad.html:1: not valid utf-8"),
    (b"", "bad.html: empty file"),
    (b"<html><body>" + b"<div>" * 300 + b"deep" + b"</div>" * 300 + b"</body></html>", "bad.html:1: elements nested"),
])
def test_broken_pages_are_reported_with_file_and_line_and_the_rest_indexed(tmp_path: Path, data: bytes,
                                                                            where: str) -> None:
    build(tmp_path, {"posts/chisels/index.html": ARTICLE})
    (tmp_path / "bad.html").write_bytes(data)
    site = read_built_site(tmp_path)
    assert [p.meta.path for p in site.posts] == ["posts/chisels/index.html"]
    assert len(site.broken) == 1 and str(site.broken[0]).startswith(where)


def part(title: str, prose: str, extra: str = "", meta: str = "") -> str:
    return page(title, f"<main><article><h1>{title}</h1>{extra}<p>{prose}</p></article></main>", meta)


def test_a_folder_with_an_index_page_is_a_series_read_in_the_order_it_lists_its_parts(tmp_path: Path) -> None:
    hub = page("Kiln", "<main><h1>Kiln drying</h1><p>Three notes on drying green timber in a small solar kiln "
               "built from scrap, written over one summer of trials, mistakes and a few boards that split along the "
               "grain.</p><ul>"
               "<li><a href='/series/kiln/stacking/'>Stacking</a></li><li><a href='/series/kiln/moisture/'>"
               "Moisture</a></li><li><a href='/series/kiln/venting/'>Venting</a></li></ul></main>")
    site = read_built_site(build(tmp_path, {
        "series/kiln/index.html": hub,
        "series/kiln/moisture/index.html": part("Moisture", "A pin meter reads the moisture of each board."),
        "series/kiln/stacking/index.html": part("Stacking", "Stickers every forty centimetres keep boards flat."),
        "series/kiln/venting/index.html": part("Venting", "Open the vents at noon when the air is driest."),
        "posts/chisels/index.html": ARTICLE,
    }))
    by_path = {p.meta.path: p.meta for p in site.posts}
    assert by_path["series/kiln/index.html"].is_hub and by_path["series/kiln/index.html"].series == ("kiln",)
    assert [by_path[f"series/kiln/{n}/index.html"].weight for n in ("stacking", "moisture", "venting")] == [1, 2, 3]
    assert by_path["posts/chisels/index.html"].series == ()


def test_prev_next_links_order_a_series_and_a_marker_names_one(tmp_path: Path) -> None:
    def linked(title: str, prev: str | None, nxt: str | None) -> str:
        rels = (f'<link rel="prev" href="{prev}">' if prev else "") + (f'<link rel="next" href="{nxt}">' if nxt else "")
        return part(title, f"{title} explains one step of finishing a table top.",
                    "<div data-casebook-series='Table Finishing'></div>", rels)

    site = read_built_site(build(tmp_path, {
        "a.html": linked("Sanding", None, "/c.html"),
        "b.html": linked("Waxing", "/c.html", None),
        "c.html": linked("Oiling", "/a.html", "/b.html"),
    }))
    order = sorted(site.posts, key=lambda p: p.meta.weight)
    assert [(p.meta.title, p.meta.series) for p in order] == [
        ("Sanding", ("table-finishing",)), ("Oiling", ("table-finishing",)), ("Waxing", ("table-finishing",))]


def test_breadcrumbs_name_the_series_page(tmp_path: Path) -> None:
    crumbs = ('<nav aria-label="Breadcrumb"><a href="/">Home</a> <a href="/guides/">Guides</a> '
              '<a href="/guides/dovetails/">Dovetails</a></nav>')
    html = page("Marking out", f"{crumbs}<main><p>Mark the tails first with a sharp knife and a bevel.</p></main>")
    site = read_built_site(build(tmp_path, {"dovetail-marking.html": html}))
    assert site.posts[0].meta.series == ("dovetails",)
