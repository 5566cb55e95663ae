"""`casebook serve` and `casebook search`: run the HTTP service, or query the index from a terminal."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from index.cli import add_store_argument
from index.errors import IndexError_
from service.catalog import Filters, UnknownName
from service.settings import ServiceSettings
from service.state import open_live


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook serve`."""
    parser.add_argument("-i", "--index", type=Path, help="index folder (env CASEBOOK_INDEX, default var/index)")
    add_store_argument(parser)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("-w", "--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--log-level", default="info", help="uvicorn log level")


def serve(args: argparse.Namespace) -> int:
    """Run uvicorn: one worker serves an app built here; several each build theirs from the environment."""
    import uvicorn

    try:
        # a bad variable fails here, named
        settings = ServiceSettings.from_env(index_dir=args.index, store_location=args.store)
    except ValueError as e:
        print(f"casebook serve: {e}", file=sys.stderr)
        return 2
    if args.workers == 1:
        from service.app import create_app
        from service.logs import configure_logging

        configure_logging()
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level,
                    access_log=False)
        return 0
    # uvicorn starts worker processes from an import string, so they read their settings from the
    # environment: run it in place of this process, with --index and --store passed as the variables they override.
    env = {**os.environ, "CASEBOOK_INDEX": str(settings.index_dir), "CASEBOOK_STORE": settings.store_location or ""}
    os.execve(sys.executable, [sys.executable, "-m", "uvicorn", "service.asgi:app_from_env", "--factory",
                               "--host", args.host, "--port", str(args.port), "--workers", str(args.workers),
                               "--log-level", args.log_level, "--no-access-log"], env)


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook search`."""
    parser.add_argument("query", help="the question or keywords")
    parser.add_argument("-i", "--index", type=Path, help="index folder (env CASEBOOK_INDEX, default var/index)")
    add_store_argument(parser)
    parser.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    parser.add_argument("--series", help="only this series (slug)")
    parser.add_argument("--section", help="only this section")
    parser.add_argument("--exact", action="store_true", help="search the words as typed: no spelling correction")
    parser.add_argument("--json", action="store_true", help="print the API's JSON response")


def search(args: argparse.Namespace) -> int:
    """Print the top passages, posts and series for a query."""
    from service.search import run_search

    try:
        live = open_live(ServiceSettings.from_env(index_dir=args.index, store_location=args.store))
        result = run_search(live, args.query, Filters(series=args.series, section=args.section), args.k, args.exact)
    except (IndexError_, UnknownName, ValueError) as e:
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m service`: the same as `casebook serve`."""
    parser = argparse.ArgumentParser(prog="python -m service", description="Run the Casebook HTTP API and page.")
    add_serve_arguments(parser)
    return serve(parser.parse_args(argv))
