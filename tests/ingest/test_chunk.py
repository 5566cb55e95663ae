"""Passages: token budget, overlap, headings kept with their text, code marked."""

from __future__ import annotations

from index.records import PostMeta
from index.text import count_tokens, split_sentences
from ingest.chunk import chunk_post, split_draft
from ingest.document import Block, Post, Section


def _post(*sections: Section) -> Post:
    meta = PostMeta(path="posts/p.md", title="Cells at scale", url="/posts/p/", section="posts", series=(),
                    tags=(), categories=(), date=None, lastmod=None, description="", weight=0, aliases=(),
                    is_hub=False, content_hash="x", links=())
    return Post(meta, sections, draft=False)


def _prose(n: int) -> str:
    return " ".join(f"Sentence number {i} talks about cell routing and failover." for i in range(n))


def test_every_passage_fits_the_token_budget():
    post = _post(Section(("Routing",), "routing", (Block("text", _prose(80), 3),)))
    drafts = chunk_post(post, max_tokens=60, overlap_tokens=10, drop=lambda s: False)
    assert len(drafts) > 5
    assert all(count_tokens(d.text) <= 60 for d in drafts)


def test_consecutive_passages_overlap_by_whole_sentences():
    post = _post(Section(("Routing",), "routing", (Block("text", _prose(40), 3),)))
    first, second, *_ = chunk_post(post, max_tokens=60, overlap_tokens=20, drop=lambda s: False)
    last_sentence = split_sentences(first.text)[-1]
    assert second.text.startswith(last_sentence)


def test_a_passage_never_spans_two_sections():
    post = _post(
        Section(("Intro",), "intro", (Block("text", "Alpha one. Alpha two.", 3),)),
        Section(("Intro", "Details"), "details", (Block("text", "Beta one. Beta two.", 6),)),
    )
    drafts = chunk_post(post, max_tokens=200, overlap_tokens=20, drop=lambda s: False)
    assert [(d.heading, d.anchor, d.text) for d in drafts] == [
        ("Intro", "intro", "Alpha one.\nAlpha two."),
        ("Intro > Details", "details", "Beta one.\nBeta two."),
    ]
    assert drafts[1].embed_text == "Cells at scale > Intro > Details\nBeta one.\nBeta two."


def test_dropped_sentences_are_left_out():
    post = _post(Section((), "", (Block("text", "Real content here. Subscribe to our newsletter.", 1),)))
    (draft,) = chunk_post(post, 200, 20, drop=lambda s: s.startswith("Subscribe"))
    assert draft.text == "Real content here."


def test_code_blocks_are_marked_and_weighted_as_code():
    code = "func main() {\n\tfmt.Println(\"hi\")\n}"
    post = _post(Section(("Code",), "code", (Block("code", code, 5),)))
    (draft,) = chunk_post(post, 200, 20, drop=lambda s: False)
    assert draft.kind == "code"
    assert draft.text.startswith("[code]\nfunc main()")


def test_navigation_blocks_become_nav_passages():
    post = _post(Section(("Related",), "related", (Block("links", "- Alipay cells\n- Shopee flash sales", 3),)))
    (draft,) = chunk_post(post, 200, 20, drop=lambda s: False)
    assert draft.kind == "nav"


def test_an_overlong_sentence_is_cut_by_tokens():
    post = _post(Section((), "", (Block("text", "word " * 500, 1),)))
    drafts = chunk_post(post, 100, 10, drop=lambda s: False)
    assert all(d.n_tokens <= 100 for d in drafts) and len(drafts) >= 5


def test_split_draft_halves_on_a_sentence_boundary():
    post = _post(Section(("A",), "a", (Block("text", "One two. Three four. Five six. Seven eight.", 1),)))
    (draft,) = chunk_post(post, 200, 20, drop=lambda s: False)
    first, second = split_draft(draft)
    assert (first.text, second.text) == ("One two. Three four.", "Five six. Seven eight.")
