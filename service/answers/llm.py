"""Optional generative answers: an OpenAI-compatible chat-completions endpoint, streamed, with a deadline."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

from index import PostMeta
from index.text import encoding
from service.answers.answer import answer, citations, prompt_evidence, to_response
from service.schemas import AnswerResponse, CitationOut
from service.search.live import Filters, Live
from service.search.ranking import ScoredPassage
from service.settings import ServiceSettings

PROMPT_TOKENS = 1500  # the sources' share of the prompt; small local models have 4k contexts
MAX_SOURCES = 6
STREAM_FACTOR = 6  # the whole answer may take this many timeouts; each wait for data takes at most one
SYSTEM_PROMPT = (
    "You answer questions about a system-design blog using only the numbered sources. "
    "Cite the sources you use as [1], [2]. If the sources do not contain the answer, say so in one sentence. "
    "Be brief: two to four sentences."
)


class LlmUnavailable(Exception):
    """The model endpoint failed, timed out or is busy; the message says which, for the fallback note."""


@dataclass(frozen=True)
class Prompt:
    """The chat messages and the passages they cite, in [n] order."""

    messages: tuple[tuple[str, str], ...]  # (role, content)
    sources: tuple[ScoredPassage, ...]
    tokens: int


def build_prompt(query: str, passages: list[ScoredPassage], posts: Mapping[str, PostMeta],
                 budget: int = PROMPT_TOKENS) -> Prompt:
    """Number the best passages as sources until the token budget is spent (the first one always fits)."""
    enc = encoding()
    blocks: list[str] = []
    sources: list[ScoredPassage] = []
    used = 0
    for scored in passages[:MAX_SOURCES]:
        post = posts[scored.passage.post_path]
        where = f"{post.title} — {scored.passage.heading}" if scored.passage.heading else post.title
        block = f"[{len(sources) + 1}] {where}\n{scored.passage.text}"
        tokens = enc.encode(block, disallowed_special=())
        if used + len(tokens) > budget:
            if sources:
                break
            block, tokens = enc.decode(tokens[:budget]), tokens[:budget]
        blocks.append(block)
        sources.append(scored)
        used += len(tokens)
    user = "Sources:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {query}"
    return Prompt((("system", SYSTEM_PROMPT), ("user", user)), tuple(sources), used)


@dataclass(frozen=True)
class Generation:
    """What a generated answer starts from: the extractive answer (shown when the model cannot answer) and, when
    the evidence is strong enough to ask a model at all, the prompt and its numbered sources."""

    extractive: AnswerResponse
    prompt: Prompt | None
    citations: list[CitationOut]  # the prompt's sources, [1] first


def prepare_generation(live: Live, query: str, filters: Filters, k: int, asker: str = "") -> Generation:
    """Answer extractively and build the prompt from the same evidence, through one connection (a database)."""
    with live.version.reading():
        result = answer(live, query, filters, k, asker=asker)
        extractive = to_response(live, result)
        if not result.found:  # weak evidence: a model would only guess, so it is not asked
            return Generation(extractive, None, [])
        evidence = prompt_evidence(result)
        prompt = build_prompt(query, evidence, live.version.fetch_posts({s.passage.post_path: None for s in evidence}))
        return Generation(extractive, prompt, citations(live, prompt.sources))


class LlmClient:
    """Streams chat completions; at most `max_concurrency` requests upstream, the rest fall back at once."""

    def __init__(self, url: str, model: str, timeout: float, max_concurrency: int) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max(1, max_concurrency))
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout))  # one connection pool for the app's life

    async def aclose(self) -> None:
        """Close the connections to the model server."""
        await self._http.aclose()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> LlmClient | None:
        """A client when CASEBOOK_LLM_URL is set, else None (extractive answers only)."""
        if not settings.llm_url:
            return None
        return cls(settings.llm_url, settings.llm_model, settings.llm_timeout_seconds,
                   settings.llm_max_concurrency)

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield the answer's text pieces as they arrive; raise LlmUnavailable on any failure or timeout."""
        if self._slots.locked():
            raise LlmUnavailable("the language model is busy")
        async with self._slots:
            deadline = time.monotonic() + STREAM_FACTOR * self.timeout
            body = {"model": self.model, "stream": True, "temperature": 0.1,
                    "messages": [{"role": role, "content": content} for role, content in prompt.messages]}
            try:
                async with self._http.stream("POST", self.url, json=body) as response:
                    if response.status_code != 200:
                        raise LlmUnavailable(f"the language model answered HTTP {response.status_code}")
                    async for line in response.aiter_lines():
                        if time.monotonic() > deadline:
                            raise LlmUnavailable("the language model took too long")
                        piece = parse_event(line)
                        if piece is None:
                            return
                        if piece:
                            yield piece
            except httpx.TimeoutException as e:
                raise LlmUnavailable("the language model timed out") from e
            except (httpx.HTTPError, ValueError, LookupError, TypeError) as e:
                raise LlmUnavailable(f"the language model failed: {type(e).__name__}") from e


def parse_event(line: str) -> str | None:
    """The text of one server-sent `data:` line; "" for lines without text, None at `[DONE]`."""
    if not line.startswith("data:"):
        return ""
    data = line[len("data:"):].strip()
    if data == "[DONE]":
        return None
    choice = json.loads(data)["choices"][0]
    return str((choice.get("delta") or {}).get("content") or "")
