"""BM25 over passages: queries are cut into terms by the same rule as the indexed text."""

from __future__ import annotations

import pytest

from index.lexical import LexicalSearch
from index.text import query_terms, query_words, tokenize
from tests.helpers import CONTENT

ODD_TEXTS = [
    "", "how should we?", "RZone x LDC: 544,000 TPS in 2019", "gorm_sharding vs Vitess", "Ünïcode façade naïve café",
    "日本語のテキスト", "a b c 1 2", "C++ / C# & F#", "<script>alert(1)</script>", "the THE The", "running runs ran",
]


@pytest.mark.parametrize("text", ODD_TEXTS + [p.read_text(encoding="utf-8") for p in sorted(CONTENT.rglob("*.md"))])
def test_query_terms_are_the_stems_the_index_was_built_with(text):
    assert query_terms(text) == tuple(dict.fromkeys(tokenize([text])[0]))


def test_search_scores_match_bm25s_and_report_query_coverage():
    lexical = LexicalSearch.build(["kafka consumer lag", "kafka partitions", "postgres vacuum", "consumer groups"])
    hits = lexical.search("kafka consumer lag", 10)
    assert [h.passage_id for h in hits][:1] == [0] and {h.passage_id for h in hits} == {0, 1, 3}
    expected = sum(lexical._bm25.get_scores([t]) for t in query_terms("kafka consumer lag"))
    assert [h.score for h in hits] == pytest.approx([expected[h.passage_id] for h in hits], rel=1e-6)
    assert hits[0].coverage == pytest.approx(1.0) and all(0 < h.coverage < 1 for h in hits[1:])
    assert lexical.document_frequency(["kafka", "consum", "unseen"]) == {"kafka": 2, "consum": 2, "unseen": 0}


def test_filters_and_queries_without_known_terms_return_nothing_outside():
    lexical = LexicalSearch.build(["kafka consumer lag", "kafka partitions"])
    assert [h.passage_id for h in lexical.search("kafka", 10, within={1})] == [1]
    assert lexical.search("how should we", 10) == [] and lexical.search("zookeeper", 10) == []
    assert LexicalSearch.build([]).search("kafka", 10) == []


def test_weighted_terms_count_in_proportion_to_their_weight():
    lexical = LexicalSearch.build(["kafka consumer lag", "kafka partitions", "consumer groups"])
    plain = {h.passage_id: h.score for h in lexical.search("kafka consumer", 10)}
    weighted = {h.passage_id: h.score for h in lexical.search_terms({"kafka": 1.0, "consum": 0.5}, 10)}
    consumer_only = lexical._bm25.get_scores(["consum"])
    assert weighted[0] == pytest.approx(plain[0] - 0.5 * consumer_only[0], rel=1e-6)
    assert weighted[2] == pytest.approx(0.5 * plain[2], rel=1e-6) and weighted[1] == pytest.approx(plain[1], rel=1e-6)


def test_holding_reads_which_stems_each_row_has_off_the_postings():
    texts = ["kafka consumer lag", "kafka partitions", "postgres vacuum", "consumer groups"]
    lexical = LexicalSearch.build(texts)
    stems = [stem for _, stem in query_words("Kafka consumers, zookeeper")]
    assert stems == ["kafka", "consum", "zookeep"]
    assert lexical.holding(stems, [3, 0, 2, 1]) == [{"consum"}, {"kafka", "consum"}, set(), {"kafka"}]
    assert lexical.knows("kafka") and not lexical.knows("zookeep") and not LexicalSearch.build([]).knows("kafka")


def test_query_words_keep_the_first_spelling_of_each_stem_in_order():
    assert query_words("How do consumers consume Kafka? consumer lag") == (
        ("consumers", "consum"), ("kafka", "kafka"), ("lag", "lag"))
