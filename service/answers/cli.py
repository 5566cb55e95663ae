"""`casebook ask`: the blog's answer to a question, with its citations, in the terminal."""

from __future__ import annotations

import argparse
import json

from index.cli import add_index_arguments
from service.search.cli import open_for
from service.search.live import Filters


def add_ask_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook ask`."""
    parser.add_argument("question", help="the question, in quotes")
    add_index_arguments(parser)
    parser.add_argument("-k", type=int, default=5, help="how many supporting passages (default 5)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON response")


def ask(args: argparse.Namespace) -> int:
    """Print the answer and its citations, or the closest passages when there is none; exit 1 if none."""
    from service.answers.answer import run_ask

    live = open_for("ask", args)
    if live is None:
        return 2
    result = run_ask(live, " ".join(args.question.split()), Filters(), args.k)
    if args.json:
        print(json.dumps(result.model_dump(), indent=2, ensure_ascii=False))
        return 0 if result.found else 1
    if result.found:
        print(f"{result.answer}\n\n(confidence {result.confidence:.2f})")
        for n, c in enumerate(result.citations, 1):
            print(f"[{n}] {c.title}" + (f" > {c.heading}" if c.heading else "") + f"\n    {c.url}")
        return 0
    print(f"No answer found in the blog (confidence {result.confidence:.2f}). Closest passages:")
    for p in result.passages:
        print(f"  {p.title}" + (f" > {p.heading}" if p.heading else "") + f"\n    {p.url}")
    return 1
