"""GET /api/ask (search and extractive answer with citations) and GET /api/ask/stream (server-sent events)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from service.answers.answer import run_ask
from service.answers.llm import LlmUnavailable, prepare_generation
from service.http.deps import GapLogDep, LiveDep, LlmDep
from service.http.routes import json_response
from service.http.routes.params import CountDep, ExactParam, FiltersDep, QueryDep
from service.schemas import AnswerResponse

router = APIRouter(tags=["ask"])


@router.get("/api/ask", response_model=AnswerResponse)
def ask(request: Request, live: LiveDep, gaps: GapLogDep, query: QueryDep, filters: FiltersDep,
        k: CountDep, exact: ExactParam = False) -> Response:
    """Search and answer in one ranking: the results of /api/search plus the blog's answer and its citations."""
    response = run_ask(live, query, filters, k, exact)
    gaps.offer(live, "ask", query, response.found)  # logged for authors when not found
    return json_response(request, response)


@router.get("/api/ask/stream", response_class=EventSourceResponse,
            responses={200: {"description": "`citations`, then `token`s (or one `answer`), then `done`"}})
async def ask_stream(live: LiveDep, llm: LlmDep, query: QueryDep, filters: FiltersDep,
                     k: CountDep) -> AsyncIterator[ServerSentEvent]:
    """Stream an answer as server-sent events: `citations`, then `token`s (or one `answer`), then `done`.

    With a language model (CASEBOOK_LLM_URL) the answer is generated from the cited passages; without
    one, or when the evidence is weak or the model fails before its first word, the extractive answer
    is sent whole.
    """
    started = time.perf_counter()
    if llm is None:
        for event in _extractive(await run_in_threadpool(run_ask, live, query, filters, k), started):
            yield event
        return
    prepared = await run_in_threadpool(prepare_generation, live, query, filters, k)
    if prepared.prompt is None:
        for event in _extractive(prepared.extractive, started):
            yield event
        return
    yield ServerSentEvent(event="citations", data={"citations": [c.model_dump() for c in prepared.citations]})
    sent = False
    try:
        async for piece in llm.stream(prepared.prompt):
            sent = True
            yield ServerSentEvent(event="token", data={"text": piece})
    except LlmUnavailable as e:
        if not sent:
            note = f"{e}; showing the extractive answer instead"
            for event in _extractive(prepared.extractive.model_copy(update={"note": note}), started):
                yield event
            return
        yield ServerSentEvent(event="note", data={"note": f"{e}; the answer above is cut short"})
    yield ServerSentEvent(event="done", data={"mode": "generative", "found": True, "note": None,
                                              "took_ms": _since(started)})


def _extractive(body: AnswerResponse, started: float) -> tuple[ServerSentEvent, ServerSentEvent]:
    """An extractive answer as a stream ends with it: the `answer` event, then `done`."""
    body = body.model_copy(update={"took_ms": _since(started)})
    return (ServerSentEvent(event="answer", data=body),
            ServerSentEvent(event="done", data={"mode": "extractive", "found": body.found, "note": body.note}))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
