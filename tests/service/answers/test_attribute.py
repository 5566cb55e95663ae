"""The value a question asks for must stand beside what it is the value of, in one sentence of the answer: a count
of other things, a version of another product or a name beside another deed does not answer it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from index.text import term_stems
from service.answers.attribute import asked, tied
from service.answers.expected import expected
from service.search.query import as_typed


def answers(question: str, *sentences: str, typed: bool = True) -> bool:
    """Whether the sentences (each holding the kind of value asked, unless `typed` is off) tie the value asked."""
    wanted = expected(as_typed(question))
    return tied(asked(question, wanted), wanted, [(s, frozenset(term_stems(s)), typed) for s in sentences])


def test_a_count_must_be_of_what_the_question_counts_not_of_a_word_beside_it() -> None:
    question = "how many user accounts did the Harbor outage lock?"
    assert not answers(question, "The Harbor launch brought 40,000 new users in a single day.")
    assert answers(question, "The outage locked 1,200 accounts for about an hour.")
    many = "how many pickers work in the warehouse the order release article describes?"
    assert not answers(many, "Orders that arrive at 08:15 miss the 10:30 truck."), "orders are not pickers"
    assert answers(many, "Forty pickers, 12 per shift, walk the aisles.")


def test_what_is_the_number_of_things_counts_them_like_how_many() -> None:
    question = "what is the maximum number of tools a gateway can list?"
    assert not answers(question, "The gateway merges manifests from 20 backend servers.")
    assert answers(question, "A catalogue lists at most 64 tools per gateway.")


def test_a_version_must_follow_the_name_of_the_product_asked_about() -> None:
    question = "which Kubernetes version first marks in-place resizing as beta?"
    assert not answers(question, "The digest covers in-place resizing and the Go 1.26 collector.")
    assert answers(question, "In-place resizing went beta in Kubernetes 1.33.")


def test_the_sentence_with_the_name_asked_for_says_the_attribute_asked() -> None:
    question = "what GPU model does the content pipeline use for local inference?"
    assert not answers(question, "The pipeline hosts its drafts on a GPU Droplet.")
    assert answers(question, "Local inference runs on one RTX 4090, a consumer GPU model with 24 GB.")
    assert not answers(question, "A 120B model runs on the RTX Spark.", typed=False), "no name of the kind asked"
    several = "which anti-patterns does the synthesis warn against?"
    assert answers(several, "Benchmarks with clean sequential keys predict nothing."), "a plural asks for a list"


def test_a_measure_or_a_date_stands_beside_the_attribute_it_measures() -> None:
    bill = "what is the monthly AWS bill for the 21-service platform?"
    assert not answers(bill, "Analysing the AWS bill of a mesh.", "Staging calls cost $500.")
    assert answers(bill, "The platform's AWS bill came to $18,400 a month.")
    end = "what is the exact end-of-life date for Kubernetes 1.35?"
    assert not answers(end, "MySQL 8.0 has crossed its end-of-life window.", "June 2026 made resizing GA.")
    assert answers(end, "Kubernetes 1.35 reaches end-of-life on 28 February 2027.")


def test_a_unit_the_question_names_and_a_deed_it_asks_about_must_be_said() -> None:
    dollars = "what did the video team save in dollars per year after leaving serverless?"
    assert not answers(dollars, "The team cut infrastructure costs by 90% on ECS.")
    assert answers(dollars, "The move saved about $1.2 million a year.")
    who = "who led Harbor's migration to TiDB?"
    assert not answers(who, "Harbor moved from Aurora to TiDB to scale writes.")
    assert answers(who, "The move was led by Mai Tran, Harbor's head of data.")


def test_an_open_question_names_no_value_to_tie() -> None:
    assert answers("how does a token bucket absorb bursts?", "A full bucket lets a quiet caller fire at once.")


def test_a_count_of_other_things_in_the_fixture_blog_is_no_answer(client: TestClient) -> None:
    body = client.get("/api/ask", params={"q": "how many queue workers does each Tidepool consumer run?"}).json()
    assert (body["found"], body["answer"], body["citations"]) == (False, None, []), "1,000 records are no workers"
    assert body["passages"], "the closest passages are still shown"
    held = client.get("/api/ask", params={"q": "how many tokens does a Gatekeeper bucket hold?"}).json()
    assert held["found"] is True and "20 tokens" in held["answer"]
