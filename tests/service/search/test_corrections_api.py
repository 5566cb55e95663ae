"""Typo tolerance and "why this result" over the fixture index: corrected_query, exact=true, why, snippets."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from index import FolderStore
from service.search.live import Filters, Live
from service.search.query import as_typed
from service.search.ranking import ScoredPassage, rank, shown_passages

TYPO = "idempotncy keys for payment retries"
CLEAN = "idempotency keys for payment retries"


def _get(client: TestClient, path: str, **params: object) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("path", ["/api/search", "/api/ask"])
def test_a_misspelt_word_is_searched_as_the_blog_spells_it_and_the_response_says_so(client, path) -> None:
    typo, clean = _get(client, path, q=TYPO), _get(client, path, q=CLEAN)
    assert typo["query"] == TYPO
    assert typo["corrected_query"] == CLEAN
    assert clean["corrected_query"] is None
    assert [p["path"] for p in typo["posts"]] == [p["path"] for p in clean["posts"]]
    assert typo["posts"][0]["path"] == "series/lighthouse/part-2-idempotency-keys.md"
    assert [p["snippet"] for p in typo["passages"]] == [p["snippet"] for p in clean["passages"]]
    assert any("<mark>idempotency</mark>" in p["snippet"].lower() for p in typo["passages"])


@pytest.mark.parametrize("path", ["/api/search", "/api/ask"])
def test_exact_searches_the_words_as_typed(client, path) -> None:
    body = _get(client, path, q=TYPO, exact="true")
    assert body["corrected_query"] is None
    assert all("idempotency" not in p["why"]["matched"] for p in body["passages"])
    assert all("idempotncy" not in p["why"]["matched"] for p in body["passages"])  # no passage holds the typo


def test_a_word_the_blog_lacks_but_the_model_knows_is_not_a_typo(client) -> None:
    # The fixture blog never writes "writers", only "writes"; the model's vocabulary says it is a word.
    body = _get(client, "/api/search", q="what happens when the readers cannot keep up with the writers")
    assert body["corrected_query"] is None


def test_why_names_the_matched_words_and_the_retrievers_with_their_ranks(client) -> None:
    body = _get(client, "/api/search", q=TYPO)
    first = body["passages"][0]["why"]
    assert first["matched"] == ["idempotency", "keys", "payment", "retries"]  # after correction, in query order
    assert first["found_by"] == [{"retriever": "lexical", "rank": 1}, {"retriever": "semantic", "rank": 1},
                                 {"retriever": "whole_post", "rank": 1}]
    for passage in body["passages"]:
        why = passage["why"]
        assert set(why["matched"]) <= set(CLEAN.split())
        assert why["found_by"] and all(f["rank"] >= 1 for f in why["found_by"])
        found = {f["retriever"] for f in why["found_by"]}
        assert "lexical" in found or "semantic" in found  # whole-post BM25 alone never brings a passage
        assert ("lexical" in found) <= bool(why["matched"])  # a BM25 hit holds at least one query word


def test_a_paraphrase_is_found_by_meaning_and_its_posts_through_borrowed_words(client) -> None:
    body = _get(client, "/api/search", q="what happens when the readers cannot keep up with the writers")
    retrievers = [{f["retriever"] for f in p["why"]["found_by"]} for p in body["passages"]]
    assert all("semantic" in r for r in retrievers[:3])
    # The query's own words cover no passage well, so whole-post BM25 ran with feedback words.
    assert any("feedback" in r for r in retrievers) and not any("whole_post" in r for r in retrievers)


@pytest.fixture(scope="module")
def live(index_dir) -> Live:
    return Live(FolderStore(index_dir).open())


def test_a_post_shows_its_content_not_its_navigation_when_both_matched(client, live, embedder) -> None:
    # The Lighthouse hub has a description (content) and a "Reading order" list (navigation); both match.
    query = "Lighthouse ledger reading order: double-entry bookkeeping, idempotency keys for retries"
    hub = "series/lighthouse/_index.md"
    ranking = rank(live, as_typed(query), embedder.encode([query])[0], Filters(), 50)
    hub_post = next(p for p in ranking.posts if p.post.path == hub)
    kinds = {s.passage.kind for s in hub_post.passages}
    assert kinds == {"text", "nav"}, "the query must match both of the hub's passages for this test to mean anything"
    assert [s.passage.kind for s in ranking.passages if s.passage.post_path == hub] == ["text"]
    body = _get(client, "/api/search", q=query, k=50)
    assert "Reading order" not in {p["heading"] for p in body["passages"] if p["path"] == hub}


def test_navigation_is_shown_when_it_is_all_a_post_matched(live) -> None:
    text, nav = (next(p for p in live.version.passages if p.kind == kind) for kind in ("text", "nav"))
    only_nav = (ScoredPassage(nav, 0.9, 0.5, 0.0, 1, 0),)
    assert shown_passages(only_nav) == only_nav
    both = (ScoredPassage(nav, 0.9, 0.5, 0.0, 1, 0), ScoredPassage(text, 0.5, 0.4, 0.0, 2, 0))
    assert shown_passages(both) == both[1:]


def test_the_search_command_says_what_it_searched_and_can_search_as_typed(index_dir, capsys) -> None:
    from casebook.cli import main

    assert main(["search", TYPO, "--index", str(index_dir), "-k", "1"]) == 0
    assert f"Showing results for: {CLEAN}" in capsys.readouterr().out
    assert main(["search", TYPO, "--index", str(index_dir), "-k", "1", "--exact"]) == 0
    assert "Showing results for" not in capsys.readouterr().out
