"""What a request costs, and when its ranking work is let in: readers first, and no client fills a worker.

Ranking is CPU-bound work in the thread pool, and the model runs one pass at a time, so a worker gains nothing
from running many rankings at once: they only wait for each other, and a reader waits behind all of them.
`Admission` runs at most `slots` rankings per worker. A request first waits for one of its client's
`client_slots`, then, when heavy (long text, many results), for one of the `heavy_slots`, then for a slot, in
arrival order; whatever it waits for, it waits at most `wait_seconds` in all, then gets a 503 with Retry-After.
So one client's flood queues behind its own requests, costing the others nothing but a socket, and an ordinary
question never queues behind more than `heavy_slots` heavy ones. It all runs on the event loop: no locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from service.settings import ServiceSettings

Endpoint = Literal["search", "ask", "related", "other"]
# Rate-limit tokens by cost, from the CPU each kind of request takes on the real blog (one model thread, caches
# off; `python -m bench --only abuse` measures it again): an ordinary search (a judged question, k 10) 14-15 ms
# = 1 token; an ask 20 ms (+0.25); the model reads at most QUERY_TOKENS, so text past ~300 characters costs
# nothing more (+0.5 at most); k=50 adds 13-40% for the results shaped and sent (+0.5). 500 characters and
# k=50 take 2.1-2.2x an ordinary search (2 tokens), as an ask of letter soup, the costliest, 2.0-2.4x (2.25).
ORDINARY_CHARS = 200
LONG_CHARS = 300
LENGTH_EXTRA = 0.5
ORDINARY_K = 10
K_PER_TOKEN = 80
ASK_EXTRA = 0.25
HEAVY_FROM = 1.5  # tokens: from here a request waits for one of the heavy slots


def endpoint_of(path: str) -> Endpoint:
    """Which kind of work a path asks for."""
    if path == "/api/search":
        return "search"
    if path in ("/api/ask", "/api/ask/stream"):
        return "ask"
    return "related" if path == "/api/related" else "other"


def request_cost(endpoint: Endpoint, query_chars: int, k: int) -> float:
    """The rate-limit tokens a request costs: 1 for an ordinary search, more for asking, long text, many results."""
    if endpoint not in ("search", "ask"):
        return 1.0
    long = (min(max(query_chars, ORDINARY_CHARS), LONG_CHARS) - ORDINARY_CHARS) / (LONG_CHARS - ORDINARY_CHARS)
    results = max(0, k - ORDINARY_K) / K_PER_TOKEN
    return round(1.0 + LENGTH_EXTRA * long + results + (ASK_EXTRA if endpoint == "ask" else 0.0), 2)


class Refused(Exception):
    """A request turned away before any ranking work: the status, why, and when to come back (seconds)."""

    def __init__(self, status: int, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


@dataclass
class _Client:
    slots: asyncio.Semaphore
    users: int = 0  # requests of this client holding or waiting for a slot


class Admission:
    """One worker's ranking slots: `slots` at once, `heavy_slots` of them heavy, `client_slots` per client.

    Made in the app's lifespan: asyncio's semaphores belong to the event loop that first waits on them.
    """

    def __init__(self, slots: int, heavy_slots: int, client_slots: int, wait_seconds: float) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self.client_slots = client_slots
        self.running = 0  # rankings holding a slot now
        self._slots = asyncio.Semaphore(slots)
        self._heavy = asyncio.Semaphore(max(1, min(heavy_slots, slots - 1)))  # ordinary questions keep one
        self._clients: dict[str, _Client] = {}


    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Admission:
        """The slots the settings ask for (CASEBOOK_RANKING_SLOTS and the rest)."""
        return cls(settings.ranking_slots, settings.heavy_slots, settings.client_slots, settings.queue_seconds)

    @asynccontextmanager
    async def slot(self, client: str, cost: float) -> AsyncIterator[None]:
        """Hold a ranking slot for the block; Refused (503) when none comes within the wait."""
        async with AsyncExitStack() as held:
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await held.enter_async_context(self._client_slot(client))
                    if cost >= HEAVY_FROM:
                        await held.enter_async_context(self._heavy)
                    await held.enter_async_context(self._slots)
            except TimeoutError:
                raise Refused(503, f"the server is busy: no ranking slot within {self.wait_seconds:g} s "
                                   "(long questions and many results wait longest)", 1) from None
            self.running += 1
            try:
                yield
            finally:
                self.running -= 1

    @asynccontextmanager
    async def _client_slot(self, client: str) -> AsyncIterator[None]:
        entry = self._clients.get(client)
        if entry is None:
            entry = self._clients[client] = _Client(asyncio.Semaphore(self.client_slots))
        entry.users += 1
        try:
            async with entry.slots:
                yield
        finally:
            entry.users -= 1
            if not entry.users:  # only clients with requests in flight are remembered
                del self._clients[client]
