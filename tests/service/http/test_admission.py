"""The cost budget: what a request costs in rate-limit tokens, and when its ranking work is let in (readers first:
one client's requests queue behind each other, heavy ones take turns, and nobody waits past the deadline)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index import Embedders
from service.http.admission import Admission, Refused, request_cost
from service.http.app import create_app
from service.settings import ServiceSettings

TOKEN = "admin-token-for-the-metrics-0123456789"


@pytest.mark.parametrize(("endpoint", "chars", "k", "tokens"), [
    ("search", 40, 10, 1.0), ("search", 200, 1, 1.0), ("ask", 200, 10, 1.25), ("ask", 40, 8, 1.25),  # the page's
    ("search", 250, 30, 1.5), ("search", 500, 10, 1.5), ("search", 40, 50, 1.5), ("ask", 500, 50, 2.25),
    ("related", 0, 50, 1.0), ("other", 0, 10, 1.0),
])
def test_an_ordinary_search_costs_one_token_and_asking_long_text_and_many_results_more(endpoint, chars, k, tokens):
    assert request_cost(endpoint, chars, k) == tokens


def run(scenario: Callable[[Admission], Awaitable[list[str]]], **limits: float) -> list[str]:
    """Run a scenario against one worker's slots; it returns what happened, in order."""
    async def main() -> list[str]:
        settings = {"slots": 4, "heavy_slots": 1, "client_slots": 2, "wait_seconds": 0.3, **limits}
        return await scenario(Admission(**settings))  # type: ignore[arg-type]
    return asyncio.run(main())


async def hold(admission: Admission, client: str, cost: float, seconds: float, events: list[str],
               name: str) -> None:
    """Take a slot, note when, keep it `seconds`; note a refusal instead."""
    try:
        async with admission.slot(client, cost):
            events.append(f"{name} in")
            await asyncio.sleep(seconds)
    except Refused as refused:
        events.append(f"{name} {refused.status}")


def test_one_clients_extra_requests_wait_for_its_own_slots_while_another_client_goes_first():
    async def scenario(admission: Admission) -> list[str]:
        events: list[str] = []
        abuser = [asyncio.create_task(hold(admission, "abuser", 1, 0.1, events, f"a{n}")) for n in range(3)]
        await asyncio.sleep(0.01)
        await hold(admission, "reader", 1, 0, events, "reader")
        await asyncio.gather(*abuser)
        return events
    # a2 waited for one of the abuser's two slots; the reader, though later, took one of the free ones
    assert run(scenario) == ["a0 in", "a1 in", "reader in", "a2 in"]


def test_heavy_requests_take_turns_and_an_ordinary_question_passes_them():
    async def scenario(admission: Admission) -> list[str]:
        events: list[str] = []
        first = asyncio.create_task(hold(admission, "x", 4, 0.1, events, "heavy1"))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(hold(admission, "y", 4, 0.0, events, "heavy2"))
        await asyncio.sleep(0.01)
        await hold(admission, "z", 1, 0.0, events, "ordinary")
        await asyncio.gather(first, second)
        return events
    assert run(scenario) == ["heavy1 in", "ordinary in", "heavy2 in"]


def test_nobody_waits_past_the_deadline_for_a_slot():
    async def scenario(admission: Admission) -> list[str]:
        events: list[str] = []
        await asyncio.gather(*(hold(admission, f"c{n}", 1, 0.5, events, f"c{n}") for n in range(3)))
        return events
    assert sorted(run(scenario, slots=2, wait_seconds=0.1)) == ["c0 in", "c1 in", "c2 503"]


def test_a_busy_worker_answers_503_with_retry_after_then_serves_again(index_dir: Path, embedders: Embedders):
    settings = ServiceSettings(index_dir=index_dir, gap_log=None, ranking_slots=2, queue_seconds=0.2,
                               admin_token=TOKEN)
    with TestClient(create_app(settings, embedders)) as client:
        assert client.portal is not None
        admission: Admission = client.app.state.admission  # type: ignore[attr-defined]
        done = client.portal.call(asyncio.Event)

        async def two_long_rankings() -> None:
            async with admission.slot("203.0.113.1", 1), admission.slot("203.0.113.2", 1):
                await done.wait()

        client.portal.start_task_soon(two_long_rankings)
        while admission.running < 2:
            client.portal.call(asyncio.sleep, 0.01)
        busy = client.get("/api/search", params={"q": "ledger"})
        client.portal.call(done.set)
        assert (busy.status_code, busy.headers["retry-after"]) == (503, "1")
        assert busy.json()["detail"].startswith("the server is busy: no ranking slot within 0.2 s")
        assert client.get("/api/search", params={"q": "ledger"}).status_code == 200
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert "casebook_busy_total 1.0" in metrics


def test_long_text_and_many_results_spend_the_rate_limit_faster(index_dir: Path, embedders: Embedders):
    app = create_app(ServiceSettings(index_dir=index_dir, gap_log=None, rate_limit_per_minute=2), embedders)
    heavy = {"q": "ledger " * 70, "k": 50}  # 489 characters and 50 results: 2 tokens
    with TestClient(app, client=("198.51.100.1", 5000)) as wide, \
            TestClient(app, client=("198.51.100.2", 5000)) as plain:
        assert [wide.get("/api/search", params=heavy).status_code, wide.get("/api/series").status_code] == [200, 429]
        assert [plain.get("/api/search", params={"q": "ledger"}).status_code for _ in range(3)] == [200, 200, 429]
        refused = wide.get("/api/search", params=heavy)
    assert "an ordinary search costs 1 and this request 2" in refused.json()["detail"]
