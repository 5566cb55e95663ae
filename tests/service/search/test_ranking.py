"""Ranking internals over the fixture index: pseudo-relevance feedback for whole-post BM25."""

from __future__ import annotations

import pytest

from index import FolderStore
from index.text import query_terms
from service.search import ranking
from service.search.live import Filters, Live
from service.search.query import as_typed


@pytest.fixture(scope="module")
def live(index_dir):
    return Live(FolderStore(index_dir).open())


def test_feedback_borrows_words_the_top_dense_passages_share_and_the_query_lacks(live, embedder):
    query = "what happens when the readers cannot keep up with the writers"
    version = live.version
    dense = version.vectors.search(embedder.encode([query])[0], ranking.DENSE_CANDIDATES)
    borrowed = ranking.feedback_terms(version, as_typed(query), dense)
    top_texts = [set(query_terms(version.passages[h.passage_id].text)) for h in dense[: ranking.FEEDBACK_PASSAGES]]
    assert 0 < len(borrowed) <= ranking.FEEDBACK_TERMS
    for term, weight in borrowed.items():
        assert weight == ranking.FEEDBACK_WEIGHT and term not in query_terms(query)
        assert sum(term in words for words in top_texts) >= ranking.FEEDBACK_MIN_PASSAGES


def test_queries_in_the_blogs_own_words_get_no_feedback(live, embedder, monkeypatch):
    calls = []
    monkeypatch.setattr(ranking, "feedback_terms", lambda *args: calls.append(args) or {})
    query = "idempotency keys"
    ranking.rank(live, as_typed(query), embedder.encode([query])[0], Filters(), 5)
    assert calls == []
    query = "what happens when the readers cannot keep up with the writers"
    ranking.rank(live, as_typed(query), embedder.encode([query])[0], Filters(), 5)
    assert len(calls) == 1
