"""`casebook eval`: run judged questions against Casebook (and the baselines) and print one table."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from casebook.evaluate import (
    BadQuestions,
    Outcome,
    Scored,
    System,
    lead_sentences,
    read_nuggets,
    read_questions,
    run_system,
    score_question,
    summarise,
    with_nuggets,
)

COLUMNS = (("ndcg", "nDCG@10"), ("recall", "R@10"), ("mrr", "MRR@10"), ("success", "S@1"),
           ("series", "Series@1"), ("answer_hit", "AnswerHit"), ("abstain", "Abstain"),
           ("answered", "Answered"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("score_auc", "ScoreAUC"),
           ("score_abstain", "ScoreAbst@90"))
ANSWER_COLUMNS = (("nugget_recall", "NuggetRecall"), ("vital", "Vital"), ("answer_hit", "AnswerHit"),
                  ("abstain", "Abstain"), ("answered", "Answered"), ("answer_words", "Words"),
                  ("ask_p50_ms", "ask p50 ms"), ("ask_p95_ms", "ask p95 ms"))
LEAD_SENTENCES = 3
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
    parser.add_argument("--nuggets", type=Path,
                        help="JSONL of answer nuggets (../shared/eval/dev_nuggets.jsonl): adds the answer table, "
                             "with the first sentences of the top passage as a baseline")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    """Run every system over the questions and print the table (or JSON)."""
    if args.baselines and not args.site:
        print("casebook eval: --baselines needs --site (the Hugo site root)", file=sys.stderr)
        return 2
    if args.baselines and not (args.site / "content").is_dir():
        print(f"casebook eval: {args.site} has no content/ folder; --site is the Hugo site root", file=sys.stderr)
        return 2
    try:
        questions = read_questions(args.queries, args.types)
        if args.nuggets:
            questions = with_nuggets(questions, read_nuggets(args.nuggets))
    except BadQuestions as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return 2
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
        from ingest.errors import IngestError

        try:
            corpus = read_corpus(args.site / "content", args.site)
        except IngestError as e:
            print(f"casebook eval: {e}", file=sys.stderr)
            return 2
        if not corpus.paths:
            print(f"casebook eval: no published posts under {args.site / 'content'} to build the baselines from",
                  file=sys.stderr)
            return 2
        systems["bm25-posts"] = Bm25Posts(corpus)
        systems["naive-dense"] = NaiveDense(corpus, cache_dir=args.cache)
    results = {name: run_system(system, questions) for name, system in systems.items()}
    if args.nuggets:
        results[f"lead-{LEAD_SENTENCES}"] = [score_question(s.question, lead_outcome(s.outcome))
                                             for s in results["casebook"]]
    tables = {name: summarise(scored) for name, scored in results.items()}
    if args.json:
        print(json.dumps({"queries": str(args.queries), "questions": len(questions), "systems": tables,
                          "details": details(results)}, indent=2))
    else:
        lead = f"lead-{LEAD_SENTENCES}"
        print(render({name: table for name, table in tables.items() if name != lead}))  # lead-3 ranks as casebook
        if args.nuggets:
            answering = {name: tables[name] for name in ("casebook", lead)}
            print("\nAnswers (NuggetRecall and Vital over the first 100 words; an abstention scores 0)\n")
            print(render(answering, ANSWER_COLUMNS))
    return 0


def lead_outcome(outcome: Outcome) -> Outcome:
    """The answer baseline on Casebook's own ranking: the top passage's first sentences, never abstaining."""
    return Outcome(outcome.posts, outcome.series, lead_sentences(outcome.top_passage, LEAD_SENTENCES) or "",
                   None, outcome.latency_ms, outcome.top_score)


def local_system(index_dir: Path | None) -> System | None:
    """Casebook in-process over an index folder: run_search, plus the ask function when one exists."""
    from service.answer import run_ask
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

    def system(query: str) -> Outcome:
        started = time.perf_counter()
        response = run_search(live, query, Filters(), K)
        latency = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        asked = run_ask(live, query, Filters(), K)
        ask_ms = (time.perf_counter() - started) * 1000
        answer, found = asked.answer or "", asked.found
        return Outcome([p.path for p in response.posts], [s.slug for s in response.series], answer, found,
                       latency, response.posts[0].score if response.posts else 0.0, ask_ms,
                       response.passages[0].text if response.passages else None)

    return system


def read_answer(body: dict[str, Any]) -> tuple[str | None, bool | None]:
    """The answer text and `found` flag of an /api/ask JSON body."""
    return body.get("answer") or "", bool(body.get("found"))


def http_system(url: str) -> System | None:
    """Casebook over HTTP: /api/search for the ranking, /api/ask for the answer while it exists."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60)

    def system(query: str) -> Outcome:
        started = time.perf_counter()
        response = client.get("/api/search", params={"q": query, "k": K})
        latency = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        body = response.json()
        started = time.perf_counter()
        asked = client.get("/api/ask", params={"q": query})
        ask_ms = (time.perf_counter() - started) * 1000
        asked.raise_for_status()
        answer = read_answer(asked.json())
        top = body["posts"][0]["score"] if body["posts"] else 0.0
        return Outcome([p["path"] for p in body["posts"]], [s["slug"] for s in body["series"]], *answer,
                       latency_ms=latency, top_score=top, ask_ms=ask_ms,
                       top_passage=body["passages"][0]["text"] if body["passages"] else None)

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
         "top_score": s.outcome.top_score, "answer": s.outcome.answer,
         **{k: v for k, v in s.values.items() if v is not None}}
        for name, scored in results.items() for s in scored
    ]


def render(tables: dict[str, dict[str, dict[str, float | int | None]]],
           columns: tuple[tuple[str, str], ...] = COLUMNS) -> str:
    """A plain-text table: one row per system and question type."""
    head = ["system", "type", "n", *(label for _, label in columns)]
    rows = [[name, qtype, str(row["n"]), *(_cell(key, row.get(key)) for key, _ in columns)]
            for name, table in tables.items() for qtype, row in table.items()]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in [head, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(key: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if key.endswith("_ms") or key == "answer_words" else f"{value:.3f}"
