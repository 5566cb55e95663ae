"""GET /api/ask (extractive answer with citations) and GET /api/ask/stream (server-sent events)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from service.answer import answer, citation, prompt_evidence, run_ask, to_response
from service.catalog import Filters
from service.deps import LiveDep, SettingsDep
from service.llm import LlmClient, LlmUnavailable, build_prompt
from service.routes import json_response
from service.routes.search import FiltersDep, KParam, QueryParam, clean_query, result_count
from service.schemas import AnswerResponse
from service.state import Live

router = APIRouter(tags=["ask"])


@router.get("/api/ask", response_model=AnswerResponse)
def ask(request: Request, live: LiveDep, settings: SettingsDep, filters: FiltersDep, q: QueryParam = "",
        k: KParam = None) -> Response:
    """Search and answer in one ranking: the results of /api/search plus the blog's answer and its citations."""
    return json_response(request, run_ask(live, clean_query(q, settings), filters, result_count(k, settings)))


@router.get("/api/ask/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "citations, tokens, done"}})
async def ask_stream(request: Request, live: LiveDep, settings: SettingsDep, filters: FiltersDep,
                     q: QueryParam = "", k: KParam = None) -> StreamingResponse:
    """Stream an answer as server-sent events: `citations`, then `token`s (or one `answer`), then `done`."""
    query = clean_query(q, settings)
    live.catalog.allowed(filters)  # an unknown series is a 404 now, not an error in the middle of the stream
    llm = await get_llm(request)
    k = result_count(k, settings)
    events = _generated(live, llm, query, filters, k) if llm else _extractive(live, query, filters, k)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def get_llm(request: Request) -> LlmClient | None:
    """The app's model client, made on first use (on the event loop, so only one is ever made)."""
    if not hasattr(request.app.state, "llm"):
        request.app.state.llm = LlmClient.from_settings(request.app.state.settings)
    return request.app.state.llm  # type: ignore[no-any-return]


def sse(event: str, data: object) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _extractive_events(body: AnswerResponse, note: str | None = None) -> tuple[str, str]:
    """An extractive answer as a stream ends with it: the `answer` event, then `done`."""
    return sse("answer", body.model_dump()), sse("done", {"mode": "extractive", "found": body.found, "note": note})


async def _extractive(live: Live, query: str, filters: Filters, k: int) -> AsyncIterator[str]:
    for event in _extractive_events(await run_in_threadpool(run_ask, live, query, filters, k)):
        yield event


async def _generated(live: Live, llm: LlmClient, query: str, filters: Filters, k: int) -> AsyncIterator[str]:
    started = time.perf_counter()
    result = await run_in_threadpool(answer, live, query, filters, k)
    if not result.found:  # weak evidence: a model would only guess, so it is not asked
        body = to_response(live, query, result).model_copy(
            update={"took_ms": round((time.perf_counter() - started) * 1000, 2)})
        for event in _extractive_events(body):
            yield event
        return
    prompt = build_prompt(query, prompt_evidence(result), live.catalog.version.posts)
    yield sse("citations", {"citations": [citation(live, s).model_dump() for s in prompt.sources]})
    sent = False
    try:
        async for piece in llm.stream(prompt):
            sent = True
            yield sse("token", {"text": piece})
    except LlmUnavailable as e:
        note = f"{e}; showing the extractive answer instead"
        if not sent:
            for event in _extractive_events(to_response(live, query, result).model_copy(update={"note": note}), note):
                yield event
            return
        yield sse("note", {"note": f"{e}; the answer above is cut short"})
    took = round((time.perf_counter() - started) * 1000, 2)
    yield sse("done", {"mode": "generative", "found": True, "note": None, "took_ms": took})
