"""GET /api/ask and `casebook ask`: a short cited answer from the fixture blog, or an honest abstention."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casebook.cli import main

Capture = pytest.CaptureFixture[str]
PART_2 = "series/lighthouse/part-2-idempotency-keys.md"
KEY_EXPIRY = "Keys expire after 24 hours, long enough to cover any sensible retry schedule."
_CITED = re.compile(r"(.+?) \[(\d+)\]([.!])(?: |$)")


def cited_sentences(answer: str) -> list[tuple[str, int]]:
    """(sentence, n) for each sentence of an answer, the [n] marker taken out; the whole text must parse."""
    parts = _CITED.findall(answer)
    assert " ".join(f"{text} [{n}]{stop}" for text, n, stop in parts) == answer, "every sentence ends in [n]"
    return [(text + stop, int(n)) for text, n, stop in parts]


def sse_events(body: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a text/event-stream body."""
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_question_about_key_expiry_opens_with_the_sentence_that_holds_the_time(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "when do idempotency keys expire?"}).json()
    assert body["found"] is True
    assert cited_sentences(body["answer"])[0] == (KEY_EXPIRY, 1)
    assert body["citations"][0] == {
        "path": PART_2,
        "title": "Lighthouse Part 2: Idempotency Keys for Retries",
        "url": "/series/lighthouse/part-2-idempotency-keys/#edge-cases",
        "heading": "Edge cases",
        "sentences": [KEY_EXPIRY],
    }
    assert 0.0 < body["confidence"] <= 1.0


@pytest.mark.parametrize("question", [
    "when do idempotency keys expire?",
    "how many records does the bounded queue between consumer and sink hold?",
    "how does Tidepool keep its Kafka consumers from overwhelming the database sink?",
])
def test_answer_is_two_to_four_sentences_each_cited_to_the_section_it_quotes(client: TestClient,
                                                                             question: str) -> None:
    body = client.get("/api/ask", params={"q": question}).json()
    assert body["found"] is True
    sentences = cited_sentences(body["answer"])
    assert 2 <= len(sentences) <= 4
    assert len(body["answer"].split()) <= 90
    assert sorted({n for _, n in sentences}) == list(range(1, len(body["citations"]) + 1)), "[1] is citations[0]"
    for text, n in sentences:
        citation = body["citations"][n - 1]
        assert text in citation["sentences"]
        assert citation["url"].startswith("/") and citation["title"]


def test_headings_table_rows_and_navigation_are_never_answer_text(client: TestClient) -> None:
    questions = ["how do database engines compare on write-ahead logs?", "what is a checkpoint in a write-ahead log?",
                 "how are Lighthouse reconciliation exceptions handled?", "how should I read the Lighthouse series?",
                 "how does the HPA avoid flapping?", "how does Tidepool pause partitions?"]
    paths = {p["path"] for q in questions for p in client.get("/api/search", params={"q": q}).json()["posts"]}
    headings = {h["heading"].split(" > ")[-1] for path in paths
                for h in client.get(f"/api/posts/{path}").json()["headings"]}
    answered = 0
    for question in questions:
        body = client.get("/api/ask", params={"q": question}).json()
        if not body["found"]:
            continue
        answered += 1
        for text, _ in cited_sentences(body["answer"]):
            assert "|" not in text, f"a table row in the answer to {question!r}"
            assert text.rstrip(".") not in headings, f"a heading in the answer to {question!r}"
            assert "Part 1" not in text and "Subscribe" not in text, f"navigation or boilerplate: {text!r}"
    assert answered >= 4


def test_number_question_without_that_number_in_the_evidence_abstains(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "how many partitions does Tidepool pause?"}).json()
    assert (body["found"], body["answer"], body["citations"], body["confidence"]) == (False, None, [], 0.0)
    assert body["passages"][0]["heading"].endswith("Pausing partitions"), "the closest passages are still shown"
    held = client.get("/api/ask", params={"q": "how many records does the Tidepool queue hold?"}).json()
    assert held["found"] is True and "1,000 records" in held["answer"]


def test_which_question_whose_names_are_only_in_a_table_abstains(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "which databases use a write-ahead log?"}).json()
    assert body["found"] is False
    assert body["passages"][0]["path"] == "posts/write-ahead-log.md"


def test_ask_returns_the_search_result_from_the_same_ranking(client: TestClient) -> None:
    params = {"q": "when do idempotency keys expire?", "k": 5}
    asked = client.get("/api/ask", params=params).json()
    searched = client.get("/api/search", params=params).json()
    for field in ("passages", "posts", "series"):
        assert [(r.get("path") or r["slug"]) for r in asked[field]] == \
            [(r.get("path") or r["slug"]) for r in searched[field]]
    assert asked["posts"][0]["path"] == PART_2


def test_ask_honours_the_search_filters(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "when do idempotency keys expire?", "section": "posts"}).json()
    assert body["posts"] and all(p["section"] == "posts" for p in body["posts"])
    assert all(not c["path"].startswith("series/") for c in body["citations"])
    question = {"q": "how does a retried payment avoid being posted twice?"}
    within = client.get("/api/ask", params={**question, "series": "lighthouse"}).json()
    assert within["found"] is True
    assert {c["path"] for c in within["citations"]} <= {p["path"] for p in within["posts"]}
    assert all(c["path"].startswith("series/lighthouse/") for c in within["citations"])
    elsewhere = client.get("/api/ask", params={**question, "series": "tidepool"}).json()
    assert all(c["path"].startswith("series/tidepool/") for c in elsewhere["citations"])
    old = client.get("/api/ask", params={**question, "until": "2026-01-06"}).json()
    assert all(p["date"] <= "2026-01-06" for p in old["posts"])
    unknown = client.get("/api/ask", params={"q": "keys", "series": "no-such-series"})
    assert unknown.status_code == 404


@pytest.mark.parametrize(("question", "expected"), [
    ("how often does the HPA controller read the metric?", "Every 15 seconds"),
    ("how many records does the bounded queue between consumer and sink hold?", "1,000 records"),
    ("what hit rate do product pages get with a five minute TTL?", "above 95 percent"),
    ("what must the amounts in a journal add up to?", "add up to zero"),
])
def test_factoid_answers_contain_the_fact(client: TestClient, question: str, expected: str) -> None:
    body = client.get("/api/ask", params={"q": question}).json()
    assert body["found"] is True
    assert expected in body["answer"]


@pytest.mark.parametrize("question", [
    "who won the football world cup in 2022?",
    "how do I bake sourdough bread at home?",
    "what is the capital of Mongolia?",
])
def test_unanswerable_question_abstains_and_shows_the_closest_passages(client: TestClient,
                                                                        question: str) -> None:
    body = client.get("/api/ask", params={"q": question}).json()
    assert (body["found"], body["answer"], body["citations"]) == (False, None, [])
    assert body["passages"], "the closest passages are still returned"


def test_response_has_the_documented_fields_and_search_shaped_passages(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "how does Tidepool pause partitions?", "k": 3}).json()
    assert set(body) == {"query", "found", "answer", "confidence", "citations", "passages", "posts", "series",
                         "took_ms", "note", "corrected_query"}
    search = client.get("/api/search", params={"q": "how does Tidepool pause partitions?", "k": 3}).json()
    assert [p["url"] for p in body["passages"]] == [p["url"] for p in search["passages"]]
    assert set(body["passages"][0]) == set(search["passages"][0])


@pytest.mark.parametrize(("params", "detail"), [
    ({"q": ""}, "q must not be empty"),
    ({"q": "   "}, "q must not be empty"),
    ({"q": "x" * 501}, "q is 501 characters; the limit is 500"),
])
def test_bad_question_is_a_422_with_message(client: TestClient, params: dict, detail: str) -> None:
    response = client.get("/api/ask", params=params)
    assert (response.status_code, response.json()["detail"]) == (422, detail)


def test_stream_without_a_model_sends_the_extractive_answer_as_one_event(client: TestClient) -> None:
    response = client.get("/api/ask/stream", params={"q": "when do idempotency keys expire?"})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [name for name, _ in events] == ["answer", "done"]
    assert events[0][1]["answer"].startswith("Keys expire after 24 hours, long enough to cover any sensible "
                                             "retry schedule [1].")
    assert events[1][1] == {"mode": "extractive", "found": True, "note": None}


@pytest.mark.parametrize(("params", "status", "detail"), [
    ({"q": ""}, 422, "q must not be empty"),
    ({"q": "keys", "k": 99}, 422, "k is 99; the limit is 50"),
    ({"q": "keys", "series": "no-such-series"}, 404, "unknown series 'no-such-series'"),
])
def test_stream_refuses_bad_requests_before_it_starts(client: TestClient, params: dict, status: int,
                                                      detail: str) -> None:
    response = client.get("/api/ask/stream", params=params)
    assert (response.status_code, response.json()["detail"]) == (status, detail)


def test_cli_ask_prints_the_answer_and_its_citation(index_dir: Path, capsys: Capture) -> None:
    assert main(["ask", "when do idempotency keys expire?", "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Keys expire after 24 hours, long enough to cover any sensible retry schedule [1].")
    assert "[1] Lighthouse Part 2: Idempotency Keys for Retries > Edge cases" in out


def test_cli_ask_says_plainly_when_there_is_no_answer(index_dir: Path, capsys: Capture) -> None:
    assert main(["ask", "who won the football world cup in 2022?", "--index", str(index_dir)]) == 1
    assert capsys.readouterr().out.startswith("No answer found in the blog")


@pytest.mark.parametrize("question", [
    "how do I pause my Netflix subscription before the next billing month?",  # "pause", "month" match Tidepool
    "how do I reconcile my grocery receipts against a household budget spreadsheet?",  # "reconcile": Lighthouse
])
def test_question_whose_specific_words_the_blog_lacks_abstains_though_an_ordinary_word_matches(
        client: TestClient, question: str) -> None:
    body = client.get("/api/ask", params={"q": question}).json()
    assert (body["found"], body["answer"], body["citations"]) == (False, None, [])
    assert body["passages"], "the closest passages are still shown"


def test_a_product_named_like_a_covered_one_abstains(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "what does Lighthouse Pay do when a payment request is retried?"}).json()
    assert (body["found"], body["answer"]) == (False, None), "the blog writes Lighthouse, never Lighthouse Pay"
    held = client.get("/api/ask", params={"q": "what does Lighthouse do when a payment request is retried?"}).json()
    assert held["found"] is True


def test_an_answer_to_a_how_question_may_quote_the_posts_description(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "how does Tidepool slow its Kafka consumers down?"}).json()
    assert body["found"] is True
    first, _ = cited_sentences(body["answer"])[0]
    assert "slow" in first.lower() and "sink" in first.lower(), first


def test_no_answer_sentence_opens_with_a_bullet_label(client: TestClient) -> None:
    for question in ("how does Tidepool pause partitions?", "how do idempotency keys work?",
                     "how does a token bucket handle bursts?", "how does the HPA scale pods?"):
        body = client.get("/api/ask", params={"q": question}).json()
        for text, _ in cited_sentences(body["answer"] or ""):
            assert not re.match(r"^[A-Z][\w -]{0,40}: ", text), text
