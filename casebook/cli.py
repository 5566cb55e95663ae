"""`casebook`: one command for every stage (ingest, search, serve, ...)."""

from __future__ import annotations

import argparse
import logging
import sys

from ingest import cli as ingest_cli
from service import cli as service_cli


def build_parser() -> argparse.ArgumentParser:
    """The command line: a sub-command per task, each with its own --help."""
    parser = argparse.ArgumentParser(prog="casebook", description="Semantic search and answers over a Hugo blog.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ingest = commands.add_parser("ingest", help="build or --check the index from a Hugo site")
    ingest_cli.add_arguments(ingest)
    ingest.set_defaults(run=ingest_cli.run)
    search = commands.add_parser("search", help="query the index from the terminal")
    service_cli.add_search_arguments(search)
    search.set_defaults(run=service_cli.search)
    serve = commands.add_parser("serve", help="run the HTTP API and search page")
    service_cli.add_serve_arguments(serve)
    serve.set_defaults(run=service_cli.serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `casebook` script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
