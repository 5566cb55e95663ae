"""`casebook search`: query the index from a terminal; `open_for`, how every reading command opens the index."""

from __future__ import annotations

import argparse
import json
import sys

from index.cli import add_index_arguments
from index.errors import IndexError_
from index.settings import SharedSettings
from service.search.holder import open_live
from service.search.live import Filters, Live, UnknownName


def open_for(command: str, args: argparse.Namespace, *, prepare: bool = True) -> Live | None:
    """The published version for `casebook COMMAND` (`--index`, `--store`), or None after printing why not.

    Unprepared, the model is loaded only if the command embeds: related posts and cross-links read stored vectors.
    """
    try:
        return open_live(SharedSettings.from_env(index_dir=args.index, store_location=args.store), prepare=prepare)
    except (IndexError_, ValueError) as e:
        print(f"casebook {command}: {e}", file=sys.stderr)
        return None


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook search`."""
    parser.add_argument("query", help="the question or keywords")
    add_index_arguments(parser)
    parser.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    parser.add_argument("--series", help="only this series (slug)")
    parser.add_argument("--section", help="only this section")
    parser.add_argument("--exact", action="store_true", help="search the words as typed: no spelling correction")
    parser.add_argument("--json", action="store_true", help="print the API's JSON response")


def search(args: argparse.Namespace) -> int:
    """Print the top passages, posts and series for a query."""
    from service.search.results import run_search

    live = open_for("search", args)
    if live is None:
        return 2
    try:
        result = run_search(live, args.query, Filters(series=args.series, section=args.section), args.k, args.exact)
    except (IndexError_, UnknownName) as e:
        print(f"casebook search: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.model_dump(), indent=2, ensure_ascii=False))
        return 0
    if result.corrected_query:
        print(f"Showing results for: {result.corrected_query}   (--exact searches the words as typed)\n")
    for p in result.passages:
        where = f"{p.title} > {p.heading}" if p.heading else p.title
        print(f"{p.rank:>2}. {p.score:.4f}  {where}\n    {p.url}\n    {p.text[:200].replace(chr(10), ' ')}")
    print("\nPosts:  " + "; ".join(f"{p.title} ({p.score:.3f})" for p in result.posts[:5]))
    print("Series: " + "; ".join(f"{s.title} ({s.score:.3f})" for s in result.series[:3]))
    return 0
