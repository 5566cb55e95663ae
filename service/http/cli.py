"""`casebook serve` (and `python -m service`): run the HTTP API and the search page."""

from __future__ import annotations

import argparse
import sys

from index.cli import add_index_arguments
from service.settings import ServiceSettings


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook serve`."""
    add_index_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("-w", "--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--log-level", default="info", help="uvicorn log level")


def serve(args: argparse.Namespace) -> int:
    """Run uvicorn as `service.http.server` configures it: one worker serves an app built here; several each
    build theirs from the environment."""
    from service.http.server import run

    try:
        # a bad variable fails here, named
        settings = ServiceSettings.from_env(index_dir=args.index, store_location=args.store)
    except ValueError as e:
        print(f"casebook serve: {e}", file=sys.stderr)
        return 2
    run(settings, args.host, args.port, args.workers, args.log_level)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m service`: the same as `casebook serve`."""
    parser = argparse.ArgumentParser(prog="python -m service", description="Run the Casebook HTTP API and page.")
    add_serve_arguments(parser)
    return serve(parser.parse_args(argv))
