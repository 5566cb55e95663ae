"""Snippets: the words a search matched are marked, the rest is escaped, and the window holds the matches."""

from __future__ import annotations

import re

from index import FolderStore
from index.text import query_terms, stem, term_stems
from service.search.snippets import WordForms, snippet


def test_marked_words_are_exactly_those_that_stem_to_a_query_term(index_dir):
    version = FolderStore(index_dir).open()
    passages = version.passages
    forms = WordForms(version.vocabulary())
    for query in ("Idempotency keys for webhooks", "scaling the caches", "replicas RUNNING", "how is it"):
        terms = term_stems(query)
        marked = forms.marked(query_terms(query), query)
        for passage in passages:
            words = re.findall(r"\w+", passage.text)
            assert [w for w in words if w in marked] == [w for w in words if stem(w) in terms]
            shown = snippet(passage.text, marked, width=10**6)  # the whole passage: every marked word in it
            assert re.findall(r"<mark>(.*?)</mark>", shown) == [w for w in words if w in marked]
    assert forms.marked(query_terms("how is it"), "how is it") == frozenset()  # stop words only
    assert forms.marked(query_terms("p99 of the caches"), "p99 of the caches") >= {"p99", "caches"}  # digits: as typed


def test_snippet_marks_the_given_words_and_escapes_everything_else():
    text = "Use a <b>cache</b> & Caching: caches expire."
    assert snippet(text, {"cache", "Caching", "caches"}) == (
        "Use a &lt;b&gt;<mark>cache</mark>&lt;/b&gt; &amp; <mark>Caching</mark>: <mark>caches</mark> expire.")
    assert snippet(text, frozenset()) == "Use a &lt;b&gt;cache&lt;/b&gt; &amp; Caching: caches expire."


def test_long_passage_is_cut_to_a_window_around_the_matches():
    text = " ".join(["filler"] * 100 + ["the", "fencing", "token", "check"] + ["filler"] * 100)
    cut = snippet(text, {"fencing", "token"}, width=80)
    assert cut.startswith("…") and cut.endswith("…")
    assert "<mark>fencing</mark> <mark>token</mark>" in cut
    assert len(cut.replace("<mark>", "").replace("</mark>", "")) <= 82
