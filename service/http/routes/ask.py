"""GET /api/ask (search and extractive answer with citations) and GET /api/ask/stream (server-sent events)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from service.answers.answer import run_ask
from service.answers.llm import Generation, LlmUnavailable, prepare_generation
from service.http.admission import request_cost
from service.http.deps import AdmissionDep, ClientDep, GapLogDep, LiveDep, LlmDep
from service.http.routes import json_response
from service.http.routes.params import CountDep, ExactParam, FiltersDep, QueryDep
from service.schemas import AnswerResponse

router = APIRouter(tags=["ask"])


@router.get("/api/ask", response_model=AnswerResponse,
            responses={503: {"description": "busy: no ranking slot came free in time (Retry-After)"}})
async def ask(request: Request, live: LiveDep, gaps: GapLogDep, admission: AdmissionDep, client: ClientDep,
              query: QueryDep, filters: FiltersDep, k: CountDep, exact: ExactParam = False) -> Response:
    """Search and answer in one ranking: the results of /api/search plus the blog's answer and its citations."""
    async with admission.slot(client, request_cost("ask", len(query), k)):
        answer = await run_in_threadpool(run_ask, live, query, filters, k, exact, client)
    gaps.offer(live, "ask", query, answer.found, asker=client)  # logged for authors when not found
    return json_response(request, answer)


@dataclass(frozen=True)
class Prepared:
    """What a stream sends before (or instead of) a model's words, ranked before the response starts."""

    started: float  # time.perf_counter() when the request began ranking
    extractive: AnswerResponse | None  # the answer when no language model is configured
    generation: Generation | None  # else the extractive answer, the prompt and its citations


async def prepare(live: LiveDep, llm: LlmDep, admission: AdmissionDep, client: ClientDep, query: QueryDep,
                  filters: FiltersDep, k: CountDep) -> Prepared:
    """Rank and answer in a ranking slot before the stream's headers go out, so a busy server is a plain 503."""
    started = time.perf_counter()
    async with admission.slot(client, request_cost("ask", len(query), k)):
        if llm is None:
            return Prepared(started, await run_in_threadpool(run_ask, live, query, filters, k, False, client), None)
        return Prepared(started, None, await run_in_threadpool(prepare_generation, live, query, filters, k, client))


@router.get("/api/ask/stream", response_class=EventSourceResponse,
            responses={200: {"description": "`citations`, then `token`s (or one `answer`), then `done`"},
                       503: {"description": "busy: no ranking slot came free in time (Retry-After)"}})
async def ask_stream(llm: LlmDep, prepared: Annotated[Prepared, Depends(prepare)]) -> AsyncIterator[ServerSentEvent]:
    """Stream an answer as server-sent events: `citations`, then `token`s (or one `answer`), then `done`.

    With a language model (CASEBOOK_LLM_URL) the answer is generated from the cited passages; without
    one, or when the evidence is weak or the model fails before its first word, the extractive answer
    is sent whole.
    """
    started = prepared.started
    if llm is None or prepared.generation is None:
        if prepared.extractive is not None:
            for event in _extractive(prepared.extractive, started):
                yield event
        return
    generation = prepared.generation
    if generation.prompt is None:
        for event in _extractive(generation.extractive, started):
            yield event
        return
    yield ServerSentEvent(event="citations", data={"citations": [c.model_dump() for c in generation.citations]})
    sent = False
    try:
        async for piece in llm.stream(generation.prompt):
            sent = True
            yield ServerSentEvent(event="token", data={"text": piece})
    except LlmUnavailable as e:
        if not sent:
            note = f"{e}; showing the extractive answer instead"
            for event in _extractive(generation.extractive.model_copy(update={"note": note}), started):
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
