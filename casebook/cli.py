"""`casebook`: one command for every stage (ingest, search, serve, ...)."""

from __future__ import annotations

import argparse
import logging
import sys

from casebook import eval_cli
from index import cli as index_cli
from ingest import cli as ingest_cli
from service import cli as service_cli
from service import cli_authors


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
    for name, help_, add, run in (
        ("ask", "answer a question with citations", cli_authors.add_ask_arguments, cli_authors.ask),
        ("related", "posts worth linking from a post", cli_authors.add_related_arguments, cli_authors.related),
        ("crosslinks", "report missing links and orphan posts", cli_authors.add_crosslinks_arguments,
         cli_authors.crosslinks),
    ):
        sub = commands.add_parser(name, help=help_)
        add(sub)
        sub.set_defaults(run=run)
    evaluate = commands.add_parser("eval", help="measure retrieval quality on judged questions")
    eval_cli.add_arguments(evaluate)
    evaluate.set_defaults(run=eval_cli.run)
    index = commands.add_parser("index", help="list the index versions kept, or roll back to an older one")
    index_cli.add_arguments(index)
    index.set_defaults(run=index_cli.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `casebook` script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
