"""Markdown bodies: sections and Hugo anchors, clean blocks with file lines, shortcodes, links."""

from __future__ import annotations

import pytest

from ingest.document import Block, Section
from ingest.markdown import heading_anchor, parse_body


def blocks(body: str, first_line: int = 1) -> list[Block]:
    sections, _ = parse_body(body, first_line)
    return [block for section in sections for block in section.blocks]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Phase 2 — Architecture & Cells!", "phase-2--architecture--cells"),
        ("What's New in Go 1.23?", "whats-new-in-go-123"),
        ("Đơn hàng & Thanh toán", "đơn-hàng--thanh-toán"),
        ("🚀 Launch Plan", "-launch-plan"),
        ("snake_case and-dashes", "snake_case-and-dashes"),
    ],
)
def test_heading_anchor_follows_goldmark_github_ids(heading, anchor):
    assert heading_anchor(heading) == anchor


def test_sections_carry_heading_paths_and_unique_anchors():
    body = "Intro.\n\n## Architecture\n\nA.\n\n### Cell routing\n\nB.\n\n## Architecture\n\nC.\n"
    sections, _ = parse_body(body, 1)
    assert sections == (
        Section((), "", (Block("text", "Intro.", 1),)),
        Section(("Architecture",), "architecture", (Block("text", "A.", 5),)),
        Section(("Architecture", "Cell routing"), "cell-routing", (Block("text", "B.", 9),)),
        Section(("Architecture",), "architecture-1", (Block("text", "C.", 13),)),
    )


def test_explicit_heading_id_wins_and_leaves_the_heading_text():
    sections, _ = parse_body("## Set up `uv` {#setup}\n\nText.\n", 1)
    assert (sections[0].heading_path, sections[0].anchor) == (("Set up uv",), "setup")


def test_headings_with_links_and_code_use_their_plain_text():
    sections, _ = parse_body("## The [`ctx`](/posts/ctx/) *rules*\n\nText.\n", 1)
    assert (sections[0].heading_path, sections[0].anchor) == (("The ctx rules",), "the-ctx-rules")


def test_sections_without_blocks_are_dropped_but_still_count_for_duplicates():
    sections, _ = parse_body("## Notes\n\n## Notes\n\nText.\n", 1)
    assert [section.anchor for section in sections] == ["notes-1"]


def test_inline_markup_is_reduced_to_readable_text():
    body = (
        "See [the guide](/posts/guide/) and ![a map](/d.png)![](/e.png), **bold** and <b>raw</b> &amp; so.\n"
    )
    assert blocks(body) == [Block("text", "See the guide and a map, bold and raw & so.", 1)]


def test_script_tags_in_html_are_dropped_but_kept_when_written_as_code():
    body = "Use `<script>alert(1)</script>` with care.\n\n<div>Shown<script>hidden()</script></div>\n"
    assert blocks(body) == [
        Block("text", "Use <script>alert(1)</script> with care.", 1),
        Block("text", "Shown", 3),
    ]


def test_lists_and_quotes_become_one_text_block_each():
    body = "- one\n- two\n  - nested\n\n> quoted **words**\n> go on\n"
    assert blocks(body) == [
        Block("text", "- one\n- two\n  - nested", 1),
        Block("text", "quoted words go on", 5),
    ]


def test_a_list_of_links_is_navigation_but_prose_with_a_link_is_text():
    body = ("## Related posts\n\n- [Alipay cells](/series/alipay/)\n- [Shopee flash sales](/series/shopee/)\n\n"
            "## Routing\n\nSee [the cells post](/x/) for why each user is pinned to one zone at a time.\n")
    assert [b.kind for b in blocks(body)] == ["links", "text"]


def test_a_list_linking_from_every_item_is_navigation_even_with_descriptions():
    related = ("- **Cells:** how zones pin users, in [Alipay cells](/series/alipay/).\n"
               "- **Flash sales:** queueing a million buyers, in [Shopee flash sales](/series/shopee/).\n")
    tools = "- [Redis](/r/) holds the counters\n- Postgres keeps the ledger, with no link at all here\n"
    assert [b.kind for b in blocks(related + "\n## Tools\n\n" + tools)] == ["links", "text"]


def test_tables_become_rows_of_cells():
    body = "| Store | Latency |\n|---|---|\n| Redis | 1 ms |\n| [Etcd](/x/) | 5 ms |\n"
    assert blocks(body) == [Block("table", "Store | Latency\nRedis | 1 ms\nEtcd | 5 ms", 1)]


def test_fences_are_kept_verbatim_with_their_kind_and_file_line():
    body = "Text.\n\n```go\nfunc main() {}\n```\n\n```mermaid\ngraph LR\n  A --> B\n```\n"
    assert blocks(body, first_line=10) == [
        Block("text", "Text.", 10),
        Block("code", "func main() {}", 12),
        Block("mermaid", "graph LR\n  A --> B", 16),
    ]


def test_faq_shortcode_becomes_a_faq_block_at_its_line():
    body = 'Intro.\n\n{{< faq q="Why cells?" >}}\nThey isolate **failure**.\n{{< /faq >}}\n\nAfter.\n'
    assert blocks(body, first_line=3) == [
        Block("text", "Intro.", 3),
        Block("faq", "Why cells?\nThey isolate failure.", 5),
        Block("text", "After.", 9),
    ]


def test_faq_answer_may_hold_a_fenced_block():
    body = '{{% faq q="How?" %}}\nLike this:\n```lua\nreturn 1\n```\n{{% /faq %}}\n'
    assert blocks(body) == [Block("faq", "How?\nLike this:\nreturn 1", 1)]


def test_ref_shortcode_becomes_a_link_and_self_closing_shortcodes_vanish():
    body = (
        'Read [cells]({{< ref "/posts/cells.md" >}}).\n\n{{< author-cta >}}\n\n{{< youtube a1 >}}\n\nEnd.\n'
    )
    sections, links = parse_body(body, 1)
    assert [block.text for block in sections[0].blocks] == ["Read cells.", "End."]
    assert sections[0].blocks[1].line == 7
    assert links == ("/posts/cells/",)


def test_paired_shortcodes_keep_their_inner_text_and_title():
    body = '{{< notice title="Heads up" >}}\nMind the gap.\n{{< /notice >}}\n'
    assert blocks(body) == [Block("text", "Heads up Mind the gap.", 1)]


def test_shortcodes_inside_fences_are_left_alone_and_escaped_ones_shown_plainly():
    body = '```md\n{{< faq q="x" >}}\n{{</* author-cta */>}}\n```\n\nWrite {{</* ref "a.md" */>}} here.\n'
    assert blocks(body) == [
        Block("code", '{{< faq q="x" >}}\n{{< author-cta >}}', 1),
        Block("text", 'Write {{< ref "a.md" >}} here.', 6),
    ]


def test_internal_links_are_normalised_and_external_ones_ignored():
    body = (
        "[a](/series/x/y#part) [b](/Posts/Z) [c](https://example.com/) [d](mailto:me@x.y)"
        " [e](#top) [f](./part-2/) [g](/cv.pdf) [h](https://blog.example/posts/k/) [a again](/series/x/y/)\n"
    )
    _, links = parse_body(body, 1, base_url="https://blog.example/")
    assert links == ("/series/x/y/", "/posts/z/", "./part-2/", "/posts/k/")
