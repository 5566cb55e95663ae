"""`casebook eval`: run judged questions against Casebook (and the baselines) and print one table."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from casebook.built_names import Names
from casebook.evaluate import (
    BadQuestions,
    Original,
    Outcome,
    Question,
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
LEAD = f"lead-{LEAD_SENTENCES}"  # the answer baseline: the first sentences of the top search passage
K = 10
SIDE_BY_SIDE = (("ndcg", "nDCG@10"), ("success", "S@1"), ("answered", "Answered"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook eval`."""
    parser.add_argument("-q", "--queries", type=Path, nargs="+",
                        help="JSONL of judged questions; several files (dev.jsonl dev_typos.jsonl) are also "
                             "reported side by side")
    parser.add_argument("--related", type=Path, metavar="FILE",
                        help="JSONL of posts and the posts their authors link to: score related posts "
                             "(with Hugo's related content as the baseline; needs --site) instead of questions")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-i", "--index", type=Path, help="index to search in-process (default var/index)")
    where.add_argument("--store", metavar="URL_OR_DIR",
                       help="a postgresql:// URL (or index folder) to search in-process (env CASEBOOK_STORE)")
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
    if args.related:
        from casebook import eval_related

        return eval_related.run(args)
    if args.queries is None:
        print("casebook eval: give --queries FILE (judged questions) or --related FILE (authors' links)",
              file=sys.stderr)
        return 2
    if args.baselines and not args.site:
        print("casebook eval: --baselines needs --site (the Hugo site root)", file=sys.stderr)
        return 2
    if args.baselines and not (args.site / "content").is_dir():
        print(f"casebook eval: {args.site} has no content/ folder; --site is the Hugo site root", file=sys.stderr)
        return 2
    files: list[tuple[Path, list[Question]]] = []
    try:
        nuggets = read_nuggets(args.nuggets) if args.nuggets else {}
        for path in args.queries:
            files.append((path, with_nuggets(read_questions(path, args.types), nuggets)))
            if not files[-1][1]:
                print(f"casebook eval: no questions in {path}", file=sys.stderr)
                return 2
    except BadQuestions as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return 2
    systems: dict[str, System] = {}
    casebook = http_system(args.url) if args.url else local_system(args.index, args.store)
    if casebook is None:
        return 2
    try:
        names = None if args.url else built_names(args.index, args.store, args.site)
    except ValueError as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return 2
    systems["casebook"] = renamed(casebook, names) if names else casebook
    if args.baselines:
        from casebook.baselines import Bm25Posts, NaiveDense, read_corpus
        from index.settings import SharedSettings
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
        systems["naive-dense"] = NaiveDense(corpus, SharedSettings.from_env().runtime, cache_dir=args.cache)
    # Near-copies count as one document, for Casebook and the baselines alike, as the index groups them.
    original = http_originals(args.url) if args.url else index_originals(args.index, args.store)
    if names:
        by_index, naming = original, names
        original = lambda path: naming.content(by_index(naming.index(path)))  # noqa: E731
    runs: list[dict[str, Any]] = []
    for path, questions in files:
        results = {name: run_system(system, questions, original) for name, system in systems.items()}
        if args.nuggets:
            results[LEAD] = [score_question(s.question, lead_outcome(s.outcome), original)
                             for s in results["casebook"]]
        tables = {name: summarise(scored) for name, scored in results.items()}
        runs.append({"queries": str(path), "questions": len(questions), "systems": tables,
                     "details": details(results)})
    if args.json:
        print(json.dumps(runs[0] if len(runs) == 1 else {"runs": runs, "side_by_side": side_by_side(runs)},
                         indent=2))
    elif len(runs) == 1:
        print_tables(runs[0]["systems"], bool(args.nuggets))
    else:
        for run_ in runs:
            print(f"{run_['queries']} ({run_['questions']} questions)\n")
            print_tables(run_["systems"], bool(args.nuggets))
            print()
        print(f"side by side\n\n{render_side_by_side(side_by_side(runs))}")
    return 0


def print_tables(tables: dict[str, dict[str, dict[str, float | int | None]]], answers: bool) -> None:
    """The retrieval table (the lead baseline ranks as Casebook, so it is left out), then the answer table."""
    print(render({name: table for name, table in tables.items() if name != LEAD}))
    if answers:
        print("\nAnswers (NuggetRecall and Vital over the first 100 words; an abstention scores 0)\n")
        print(render({name: tables[name] for name in ("casebook", LEAD)}, ANSWER_COLUMNS))


def lead_outcome(outcome: Outcome) -> Outcome:
    """The answer baseline on Casebook's own ranking: the top passage's first sentences, never abstaining."""
    return Outcome(outcome.posts, outcome.series, lead_sentences(outcome.top_passage, LEAD_SENTENCES) or "",
                   None, outcome.latency_ms, outcome.top_score)


def index_originals(index_dir: Path | None, store: str | None = None) -> Original:
    """Each near-copy's original, as the index records it (PostMeta.duplicate_of)."""
    from index.settings import SharedSettings

    opened = SharedSettings.from_env(index_dir=index_dir, store_location=store).store()
    try:
        copies = {p.path: p.duplicate_of for p in opened.open().posts.values() if p.duplicate_of}
    finally:
        opened.close()
    return lambda path: copies.get(path, path)


def built_names(index_dir: Path | None, store: str | None, site: Path | None) -> Names | None:
    """For an index read from a built site: its pages paired with the content files the judgments name."""
    from casebook.built_names import is_built, names
    from index.settings import SharedSettings

    opened = SharedSettings.from_env(index_dir=index_dir, store_location=store).store()
    try:
        if not is_built(opened.manifest().extra):
            return None
        if site is None or not (site / "content").is_dir():
            raise ValueError("the index was read from a built site: give --site (the Hugo site root) so its pages "
                             "are matched with the content files the judgments name")
        return names(site, list(opened.open().posts.values()))
    finally:
        opened.close()


def renamed(system: System, names: Names) -> System:
    """The system with its posts named by their content files."""
    return lambda query: replace(outcome := system(query), posts=[names.content(p) for p in outcome.posts])


def http_originals(url: str) -> Original:
    """Each near-copy's original, as the service's /api/posts/{path} reports it (asked once per path)."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60)

    @cache
    def original(path: str) -> str:
        response = client.get(f"/api/posts/{path}")
        return (response.json().get("duplicate_of") or path) if response.status_code == 200 else path

    return original


def side_by_side(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, dict[str, float | int | None]]]]:
    """system -> type -> questions file -> n and the SIDE_BY_SIDE metrics, for types in the first file."""
    out: dict[str, dict[str, dict[str, dict[str, float | int | None]]]] = {}
    for name, table in runs[0]["systems"].items():
        if name == LEAD:  # it ranks as Casebook does; only its answers differ
            continue
        out[name] = {qtype: {r["queries"]: {key: r["systems"][name].get(qtype, {}).get(key)
                                            for key in ("n", *(k for k, _ in SIDE_BY_SIDE))} for r in runs}
                     for qtype in table}
    return out


def render_side_by_side(table: dict[str, dict[str, dict[str, dict[str, float | int | None]]]]) -> str:
    """One row per system and type; each questions file's n and metrics next to the first file's."""
    files = list(next(iter(next(iter(table.values())).values())))
    names = [Path(f).stem for f in files]
    head = ["system", "type", *(f"{label} {n}" for n in names for label in ("n", *(lab for _, lab in SIDE_BY_SIDE)))]
    head += [f"nDCG {n}/{names[0]}" for n in names[1:]]
    rows = []
    for system, types in table.items():
        for qtype, by_file in types.items():
            row = [system, qtype]
            for f in files:
                row += [str(by_file[f]["n"] or 0), *(_cell(k, by_file[f][k]) for k, _ in SIDE_BY_SIDE)]
            first = by_file[files[0]]["ndcg"]
            row += [_ratio(by_file[f]["ndcg"], first) for f in files[1:]]
            rows.append(row)
    return _grid(head, rows)


def _ratio(value: float | int | None, base: float | int | None) -> str:
    return f"{value / base:.3f}" if value is not None and base else "n/a"


def local_system(index_dir: Path | None, store: str | None = None) -> System | None:
    """Casebook in-process over an index folder: run_search for the ranking, run_ask for the answer."""
    from index.errors import IndexError_
    from index.settings import SharedSettings
    from service.answer import run_ask
    from service.catalog import Filters
    from service.search import run_search
    from service.state import open_live

    try:
        live = open_live(SharedSettings.from_env(index_dir=index_dir, store_location=store))
    except (IndexError_, ValueError) as e:
        print(f"casebook eval: {e}", file=sys.stderr)
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
    """Casebook over HTTP: /api/search for the ranking, /api/ask for the answer."""
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
    return _grid(head, rows)


def _grid(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in [head, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(key: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if key.endswith("_ms") or key == "answer_words" else f"{value:.3f}"
