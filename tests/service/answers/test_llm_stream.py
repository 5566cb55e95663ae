"""Generative mode: /api/ask/stream against a tiny local OpenAI-compatible server, with fallbacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.text import encoding
from service.answers.answer import answer, prompt_evidence
from service.answers.llm import LlmClient, LlmUnavailable, Prompt, build_prompt
from service.http.app import create_app
from service.search.live import Filters
from service.search.query import as_typed
from service.search.ranking import rank
from service.settings import ServiceSettings
from tests.helpers import LLM_PIECES, FakeModel, fake_model_server, sse_events

QUESTION = "when do idempotency keys expire?"


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    """Base URL of the stand-in model server."""
    with fake_model_server() as url:
        yield url


def stream(index_dir: Path, llm_url: str, question: str = QUESTION) -> list[tuple[str, dict]]:
    settings = ServiceSettings(index_dir=index_dir, llm_url=llm_url, llm_timeout_seconds=1.0)
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/ask/stream", params={"q": question})
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse_events(response.text)


def test_stream_sends_citations_then_tokens_then_done(index_dir: Path, model_url: str) -> None:
    FakeModel.requests.clear()
    events = stream(index_dir, f"{model_url}/ok/v1/chat/completions")
    names = [name for name, _ in events]
    assert names == ["citations", "token", "token", "token", "done"]
    assert "".join(d["text"] for name, d in events if name == "token") == "Keys expire after 24 hours [1]."
    assert events[0][1]["citations"][0]["url"] == "/series/lighthouse/part-2-idempotency-keys/#edge-cases"
    assert events[-1][1]["mode"] == "generative"
    sent = FakeModel.requests[0]
    assert (sent["path"], sent["model"], sent["stream"]) == ("/ok/v1/chat/completions", "local", True)
    prompt = sent["messages"][1]["content"]
    assert prompt.startswith("Sources:\n\n[1] Lighthouse Part 2: Idempotency Keys for Retries — Edge cases\n")
    assert prompt.endswith(f"Question: {QUESTION}")


def test_base_url_gets_the_chat_completions_path(index_dir: Path, model_url: str) -> None:
    FakeModel.requests.clear()
    assert [n for n, _ in stream(index_dir, f"{model_url}/ok/v1")][-1] == "done"
    assert FakeModel.requests[0]["path"] == "/ok/v1/chat/completions"


def test_slow_model_falls_back_to_the_extractive_answer_with_a_note(index_dir: Path, model_url: str) -> None:
    started = time.monotonic()
    events = stream(index_dir, f"{model_url}/slow/v1/chat/completions")
    assert time.monotonic() - started < 2.4, "the service gave up on the model before it answered"
    assert [name for name, _ in events] == ["citations", "answer", "done"]
    answer = events[1][1]
    assert answer["answer"].startswith("Keys expire after 24 hours, long enough to cover any sensible retry "
                                       "schedule [1].")
    assert events[0][1]["citations"][0] == {k: v for k, v in answer["citations"][0].items() if k != "sentences"} \
        | {"sentences": []}
    assert answer["note"] == "the language model timed out; showing the extractive answer instead"
    assert events[2][1]["mode"] == "extractive"


def test_model_error_falls_back_with_the_status_in_the_note(index_dir: Path, model_url: str) -> None:
    events = stream(index_dir, f"{model_url}/error/v1/chat/completions")
    note = events[1][1]["note"]
    assert note == "the language model answered HTTP 500; showing the extractive answer instead"


def test_unanswerable_question_is_not_sent_to_the_model(index_dir: Path, model_url: str) -> None:
    FakeModel.requests.clear()
    events = stream(index_dir, f"{model_url}/ok/v1", "who won the football world cup in 2022?")
    assert [name for name, _ in events] == ["answer", "done"]
    assert events[0][1]["found"] is False
    assert FakeModel.requests == []


def test_prompt_gets_the_passages_the_extractive_answer_cites_first(client: TestClient) -> None:
    live = client.app.state.holder.live  # type: ignore[attr-defined]
    result = answer(live, QUESTION, Filters(), 10)
    assert result.found and len(result.cited) >= 2
    prompt = build_prompt(QUESTION, prompt_evidence(result), live.version.posts)
    assert prompt.sources[:len(result.cited)] == result.cited
    assert len({s.passage.id for s in prompt.sources}) == len(prompt.sources)


def test_prompt_sources_are_trimmed_to_the_token_budget(client: TestClient) -> None:
    live = client.app.state.holder.live  # type: ignore[attr-defined]
    ranking = rank(live, as_typed(QUESTION), live.embed_query(QUESTION), Filters(), 10)
    full = build_prompt(QUESTION, ranking.passages, live.version.posts)
    small = build_prompt(QUESTION, ranking.passages, live.version.posts, budget=60)
    assert len(small.sources) < len(full.sources)
    assert small.tokens <= 60
    assert len(encoding().encode(small.messages[1][1])) < len(encoding().encode(full.messages[1][1]))


def test_second_request_is_refused_at_once_while_the_only_slot_is_busy(model_url: str) -> None:
    client = LlmClient(f"{model_url}/slow/v1", "local", timeout=5.0, max_concurrency=1)
    prompt = Prompt((("user", "hi"),), (), 1)

    async def scenario() -> tuple[str, float]:
        first = asyncio.create_task(_collect(client, prompt))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(LlmUnavailable) as refused:
            await _collect(client, prompt)
        waited = time.monotonic() - started
        assert await first == "".join(LLM_PIECES)
        return str(refused.value), waited

    message, waited = asyncio.run(scenario())
    assert message == "the language model is busy"
    assert waited < 0.5


async def _collect(client: LlmClient, prompt: Prompt) -> str:
    return "".join([piece async for piece in client.stream(prompt)])
