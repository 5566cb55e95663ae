"""Real-scale checks over ../shared/site: skipped cleanly in a user's clone, run by CI beside the data."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from index import FolderStore
from service.http.app import create_app
from service.settings import ServiceSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_client(real_index):
    with TestClient(create_app(ServiceSettings(index_dir=real_index[0]))) as client:
        yield client


def test_the_whole_blog_is_indexed_with_nothing_truncated(real_index):
    index_dir, report = real_index
    assert report.posts >= 300 and report.skipped == []
    assert report.truncated == 0
    assert report.series >= 20


def test_the_marketing_boilerplate_and_the_research_copies_are_recognised(real_index):
    index_dir, report = real_index
    assert report.boilerplate_sentences >= 1
    posts = FolderStore(index_dir).open().posts
    research = [p for p in posts.values() if p.section == "research"]
    assert research and all(p.duplicate_of for p in research)


def test_alipay_question_puts_the_alipay_series_and_an_alipay_post_first(real_client):
    body = real_client.get("/api/search", params={"q": "how does Alipay handle Double 11"}).json()
    assert body["series"][0]["slug"] == "alipay-double-11"
    assert "alipay" in body["posts"][0]["path"]


def test_public_urls_follow_the_site_config(real_index):
    posts = FolderStore(real_index[0]).open().posts
    hub = posts["series/alipay-double-11/_index.md"]
    assert hub.url == "https://tanhdev.com/series/alipay-double-11/"
    standalone = next(p for p in posts.values() if p.section == "posts")
    assert standalone.url.startswith("https://tanhdev.com/posts/")


def test_alipay_question_is_answered_with_cited_sentences_from_the_alipay_posts(real_client):
    body = real_client.get("/api/ask", params={"q": "how does Alipay handle Double 11"}).json()
    assert body["found"] is True
    assert 2 <= body["answer"].count("].") + body["answer"].count("]!") <= 4
    assert len(body["answer"].split()) <= 90
    assert body["citations"] and all("alipay" in c["path"] for c in body["citations"])
    assert all(c["sentences"] for c in body["citations"])


def test_number_question_the_blog_does_not_answer_abstains_with_the_closest_passages(real_client):
    body = real_client.get("/api/ask", params={"q": "how many Kafka brokers does PayPay run?"}).json()
    assert (body["found"], body["answer"], body["confidence"]) == (False, None, 0.0)
    assert "paypay" in body["passages"][0]["path"]


@pytest.mark.parametrize("question", [
    "how do I replace a tripped circuit breaker in my home's electrical panel?",  # ordinary words only
    "how does Deliveroo's dispatch algorithm assign riders to orders?",  # spelling would read "Delivery"
    "what was Alipay's peak payment TPS on Double 11 in 2021?",  # the year is not in the evidence
    "what is PayPay's merchant fee per QR payment?",  # the attribute asked is never said
])
def test_questions_whose_subject_the_blog_lacks_abstain(real_client, question):
    body = real_client.get("/api/ask", params={"q": question}).json()
    assert body["found"] is False and body["answer"] is None


def test_a_misspelt_name_the_blog_writes_still_gets_an_answer(real_client):
    body = real_client.get("/api/ask", params={"q": "how many users does PaPay have?"}).json()
    assert body["found"] is True and "PayPay" in body["answer"]
