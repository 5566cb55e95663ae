"""`casebook eval`: run judged questions against Casebook (and the baselines) and print one table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from casebook.eval.hugo_related import HugoRelated, read_pages
from casebook.eval.metrics import lead_sentences
from casebook.eval.questions import (
    BadQuestions,
    Outcome,
    Question,
    Scored,
    System,
    read_nuggets,
    read_questions,
    reliability,
    run_system,
    score_question,
    summarise,
    with_nuggets,
)
from casebook.eval.related import RelatedSystem, read_related, run_related, summarise_related
from casebook.eval.related import render as render_related
from casebook.eval.systems import (
    K,
    built_names,
    http_originals,
    http_related,
    http_system,
    index_originals,
    local_related,
    local_system,
    renamed,
    renamed_related,
)
from casebook.eval.tables import ANSWER_COLUMNS, SIDE_BY_SIDE, render, render_reliability, render_side_by_side

LEAD_SENTENCES = 3
LEAD = f"lead-{LEAD_SENTENCES}"  # the answer baseline: the first sentences of the top search passage


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
        return related_command(args)
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
        from casebook.eval.baselines import Bm25Posts, NaiveDense, read_corpus
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
                     "reliability": reliability(results["casebook"]), "details": details(results)})
    if args.json:
        print(json.dumps(runs[0] if len(runs) == 1 else {"runs": runs, "side_by_side": side_by_side(runs)},
                         indent=2))
    elif len(runs) == 1:
        print_tables(runs[0]["systems"], bool(args.nuggets), runs[0]["reliability"])
    else:
        for run_ in runs:
            print(f"{run_['queries']} ({run_['questions']} questions)\n")
            print_tables(run_["systems"], bool(args.nuggets), run_["reliability"])
            print()
        print(f"side by side\n\n{render_side_by_side(side_by_side(runs))}")
    return 0


def print_tables(tables: dict[str, dict[str, dict[str, float | int | None]]], answers: bool,
                 reliable: list[dict[str, float | int | str | None]] | None = None) -> None:
    """The retrieval table (the lead baseline ranks as Casebook, so it is left out), then the answer table and
    the reliability of the stated confidence."""
    print(render({name: table for name, table in tables.items() if name != LEAD}))
    if answers:
        print("\nAnswers (NuggetRecall and Vital over the first 100 words; an abstention scores 0)\n")
        print(render({name: tables[name] for name in ("casebook", LEAD)}, ANSWER_COLUMNS))
    if reliable:
        print("\nReliability (answers given, by stated confidence: of those judged (a question with key points, or "
              "an unanswerable one, which holds none), the share holding the core point; unanswerable questions "
              "answered)\n")
        print(render_reliability(reliable))


def lead_outcome(outcome: Outcome) -> Outcome:
    """The answer baseline on Casebook's own ranking: the top passage's first sentences, never abstaining."""
    return Outcome(outcome.posts, outcome.series, lead_sentences(outcome.top_passage, LEAD_SENTENCES) or "",
                   None, outcome.latency_ms, outcome.top_score)


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


def details(results: dict[str, list[Scored]]) -> list[dict[str, Any]]:
    """One row per system and question: the top posts and each metric, to find what to tune."""
    return [
        {"system": name, "qid": s.question.qid, "type": s.question.type, "query": s.question.query,
         "top": s.outcome.posts[:3], "top_series": s.outcome.series[:2], "found": s.outcome.found,
         "top_score": s.outcome.top_score, "answer": s.outcome.answer, "confidence": s.outcome.confidence,
         **{k: v for k, v in s.values.items() if v is not None}}
        for name, scored in results.items() for s in scored
    ]


def related_command(args: argparse.Namespace) -> int:
    """Score Casebook's and Hugo's related posts on every post of the file that has links; print one table."""
    if not args.site:
        print("casebook eval: --related needs --site (the Hugo site root), for Hugo's related content",
              file=sys.stderr)
        return 2
    if not (args.site / "content").is_dir():
        print(f"casebook eval: {args.site} has no content/ folder; --site is the Hugo site root", file=sys.stderr)
        return 2
    try:
        posts = read_related(args.related)
    except BadQuestions as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return 2
    if not any(p.links for p in posts):
        print(f"casebook eval: no post with links in {args.related}", file=sys.stderr)
        return 2
    casebook = http_related(args.url) if args.url else local_related(args.index, args.store)
    if casebook is None:
        return 2
    try:
        names = None if args.url else built_names(args.index, args.store, args.site)
    except ValueError as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return 2
    if names:
        casebook = renamed_related(casebook, names)
    hugo = HugoRelated(read_pages(args.site / "content"))
    systems: dict[str, RelatedSystem] = {"casebook": casebook, "hugo": lambda path: hugo.related(path, K)}
    tables = {name: summarise_related(run_related(system, posts)) for name, system in systems.items()}
    if args.json:
        print(json.dumps({"related": str(args.related), "posts": len(posts), "systems": tables}, indent=2))
    else:
        print(render_related(tables, posts))
    return 0
