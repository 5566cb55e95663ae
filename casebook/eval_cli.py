"""`casebook eval`: run judged questions against Casebook (and the baselines) and print one table."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from casebook.evaluate import Outcome, Scored, System, read_questions, run_system, summarise

COLUMNS = (("ndcg", "nDCG@10"), ("recall", "R@10"), ("mrr", "MRR@10"), ("success", "S@1"),
           ("series", "Series@1"), ("answer_hit", "AnswerHit"), ("abstain", "Abstain"),
           ("answered", "Answered"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("score_auc", "ScoreAUC"),
           ("score_abstain", "ScoreAbst@90"))
ASK_FUNCTIONS = ("run_ask", "ask", "answer_question", "answer")
K = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook eval`."""
    parser.add_argument("-q", "--queries", type=Path, required=True, help="JSONL of judged questions")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-i", "--index", type=Path, help="index to search in-process (default var/index)")
    where.add_argument("--url", help="a running service to query over HTTP, e.g. http://127.0.0.1:8000")
    parser.add_argument("--site", type=Path, help="Hugo site root the baselines are built from")
    parser.add_argument("--baselines", action="store_true", help="also run BM25 over posts and naive dense")
    parser.add_argument("--cache", type=Path, help="folder to keep the naive dense vectors between runs")
    parser.add_argument("--types", nargs="+", help="only these question types")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    """Run every system over the questions and print the table (or JSON)."""
    if args.baselines and not args.site:
        print("casebook eval: --baselines needs --site (the Hugo site root)", file=sys.stderr)
        return 2
    questions = read_questions(args.queries, args.types)
    if not questions:
        print(f"casebook eval: no questions in {args.queries}", file=sys.stderr)
        return 2
    systems: dict[str, System] = {}
    casebook = http_system(args.url) if args.url else local_system(args.index)
    if casebook is None:
        return 2
    systems["casebook"] = casebook
    if args.baselines:
        from casebook.baselines import Bm25Posts, NaiveDense, read_corpus

        corpus = read_corpus(args.site / "content", args.site)
        systems["bm25-posts"] = Bm25Posts(corpus)
        systems["naive-dense"] = NaiveDense(corpus, cache_dir=args.cache)
    results = {name: run_system(system, questions) for name, system in systems.items()}
    tables = {name: summarise(scored) for name, scored in results.items()}
    if args.json:
        print(json.dumps({"queries": str(args.queries), "questions": len(questions), "systems": tables,
                          "details": details(results)}, indent=2))
    else:
        print(render(tables))
    return 0


def local_system(index_dir: Path | None) -> System | None:
    """Casebook in-process over an index folder: run_search, plus the ask function when one exists."""
    from service.catalog import Filters
    from service.search import run_search
    from service.settings import ServiceSettings
    from service.state import IndexHolder

    settings = ServiceSettings.from_env(index_dir=index_dir)
    holder = IndexHolder(settings.index_dir, cache_size=0)
    holder.refresh()
    live = holder.live
    if live is None:
        print(f"casebook eval: {holder.last_error}", file=sys.stderr)
        return None
    ask = find_ask()

    def system(query: str) -> Outcome:
        started = time.perf_counter()
        response = run_search(live, query, Filters(), K)
        latency = (time.perf_counter() - started) * 1000
        answer, found = (None, None)
        if ask:
            try:
                answer, found = read_answer(ask(live, query))
            except Exception as e:  # a failing ask must not hide the ranking numbers
                print(f"casebook eval: ask failed on {query!r}: {e!r}", file=sys.stderr)
        return Outcome([p.path for p in response.posts], [s.slug for s in response.series], answer, found,
                       latency, response.posts[0].score if response.posts else 0.0)

    return system


def find_ask() -> Callable[[Any, str], Any] | None:
    """service.answer's ask function as (live, query) -> result, if that module exists yet."""
    try:
        module = importlib.import_module("service.answer")
    except ImportError:
        return None
    for name in ASK_FUNCTIONS:
        function = getattr(module, name, None)
        if callable(function) and (call := _bind(function)):
            return call
    return None


def _bind(function: Callable[..., Any]) -> Callable[[Any, str], Any] | None:
    # Its signature may change while /api/ask is being built: pass what it asks for by name, or skip it.
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return None
    known = {"live", "query", "q", "k"}
    required = {n for n, p in params.items() if p.default is inspect.Parameter.empty}
    if not required <= known or "live" not in params or not {"query", "q"} & set(params):
        return None
    query_name = "query" if "query" in params else "q"

    def call(live: Any, query: str) -> Any:
        values = {"live": live, query_name: query, "k": K}
        return function(**{n: v for n, v in values.items() if n in params})

    return call


def read_answer(result: Any) -> tuple[str | None, bool | None]:
    """The answer text and `found` flag of an ask result (a response model, dataclass or dict)."""
    data = result.model_dump() if hasattr(result, "model_dump") else result
    data = data if isinstance(data, dict) else vars(data)
    text = data.get("answer") if isinstance(data.get("answer"), str) else data.get("text")
    found = data.get("found")
    return (text or "", bool(found) if found is not None else None)


def http_system(url: str) -> System | None:
    """Casebook over HTTP: /api/search for the ranking, /api/ask for the answer while it exists."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60)
    has_ask = True

    def system(query: str) -> Outcome:
        nonlocal has_ask
        started = time.perf_counter()
        response = client.get("/api/search", params={"q": query, "k": K})
        latency = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        body = response.json()
        answer: tuple[str | None, bool | None] = (None, None)
        if has_ask:
            asked = client.get("/api/ask", params={"q": query})
            has_ask = asked.status_code != 404
            if asked.status_code == 200:
                answer = read_answer(asked.json())
        top = body["posts"][0]["score"] if body["posts"] else 0.0
        return Outcome([p["path"] for p in body["posts"]], [s["slug"] for s in body["series"]], *answer,
                       latency_ms=latency, top_score=top)

    try:
        client.get("/api/search", params={"q": "health check", "k": 1}).raise_for_status()
    except httpx.HTTPError as e:
        print(f"casebook eval: {url}: {e}", file=sys.stderr)
        return None
    return system


def details(results: dict[str, list[Scored]]) -> list[dict[str, Any]]:
    """One row per system and question: the top posts and each metric, to find what to tune."""
    return [
        {"system": name, "qid": s.question.qid, "type": s.question.type, "query": s.question.query,
         "top": s.outcome.posts[:3], "top_series": s.outcome.series[:2], "found": s.outcome.found,
         "top_score": s.outcome.top_score,
         **{k: v for k, v in s.values.items() if v is not None}}
        for name, scored in results.items() for s in scored
    ]


def render(tables: dict[str, dict[str, dict[str, float | int | None]]]) -> str:
    """A plain-text table: one row per system and question type."""
    head = ["system", "type", "n", *(label for _, label in COLUMNS)]
    rows = [[name, qtype, str(row["n"]), *(_cell(key, row.get(key)) for key, _ in COLUMNS)]
            for name, table in tables.items() for qtype, row in table.items()]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in [head, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(key: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if key.endswith("_ms") else f"{value:.3f}"
