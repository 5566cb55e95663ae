"""`casebook`: one command for every stage (ingest, search, serve, ...)."""

from __future__ import annotations

import argparse
import logging
import sys

from casebook import ci
from casebook.eval import cli as eval_cli
from index import cli as index_cli
from ingest import cli as ingest_cli
from service.answers import cli as answers_cli
from service.authors import cli as authors_cli
from service.http import cli as http_cli
from service.search import cli as search_cli

# name, one-line help, the function adding its flags, the function running it
COMMANDS = (
    ("ingest", "build or --check the index from a Hugo site or any generator's output (--built)",
     ingest_cli.add_arguments, ingest_cli.run),
    ("search", "query the index from the terminal", search_cli.add_search_arguments, search_cli.search),
    ("serve", "run the HTTP API and search page", http_cli.add_serve_arguments, http_cli.serve),
    ("ask", "answer a question with citations", answers_cli.add_ask_arguments, answers_cli.ask),
    ("related", "posts worth linking from a post", authors_cli.add_related_arguments, authors_cli.related),
    ("crosslinks", "report missing links and orphan posts", authors_cli.add_crosslinks_arguments,
     authors_cli.crosslinks),
    ("gaps", "questions readers asked that the blog does not answer, grouped", authors_cli.add_gaps_arguments,
     authors_cli.gaps),
    ("export", "related posts as a Hugo data file, rendered at build time by the theme's partial",
     authors_cli.add_export_arguments, authors_cli.export),
    ("eval", "measure retrieval quality on judged questions", eval_cli.add_arguments, eval_cli.run),
    ("index", "list the index versions kept, or roll back to an older one", index_cli.add_arguments, index_cli.run),
    ("ci", "a blog's CI job: ingest --strict, the deploy artifact, link suggestions for a change", ci.add_arguments,
     ci.run),
)


def build_parser() -> argparse.ArgumentParser:
    """The command line: a sub-command per task, each with its own --help."""
    parser = argparse.ArgumentParser(prog="casebook", description="Semantic search and answers over a Hugo blog.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_, add_arguments, run in COMMANDS:
        command = commands.add_parser(name, help=help_)
        add_arguments(command)
        command.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `casebook` script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
