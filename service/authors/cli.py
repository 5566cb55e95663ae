"""`casebook related`, `crosslinks`, `gaps` and `export hugo`: linking help, content gaps, related posts for a theme."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from index.cli import add_index_arguments
from service.search.cli import open_for
from service.search.live import UnknownName
from service.settings import ServiceSettings


def add_related_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook related`."""
    parser.add_argument("path", help="content path (posts/x.md) or public URL / alias of the post")
    add_index_arguments(parser)
    parser.add_argument("-k", type=int, default=10, help="how many related posts (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON like /api/related")


def related(args: argparse.Namespace) -> int:
    """Print the posts worth linking from a post, marking those it already links to."""
    from service.authors.related import reason, related_posts, related_space, to_response

    live = open_for("related", args, prepare=False)  # related posts read stored vectors: no model
    if live is None:
        return 2
    try:
        source = live.post(args.path) if args.path.endswith(".md") else live.post_by_url(args.path)
    except UnknownName as e:
        print(f"casebook related: {e}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    found = related_posts(live, live.derived(related_space), source.path, args.k)
    if args.json:
        took = round((time.perf_counter() - started) * 1000, 2)
        print(json.dumps(to_response(source, found, took).model_dump(), indent=2, ensure_ascii=False))
        return 0
    print(f"Related to {source.title} ({source.path}):")
    for n, r in enumerate(found, 1):
        mark = "linked" if r.linked else "      "
        print(f"{n:>2}. {r.score:.3f} {mark} {r.post.title}  ({r.post.path})\n    {reason(r)}")
    return 0


def add_crosslinks_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook crosslinks`."""
    from service.authors.crosslinks import DEFAULT_MIN_SCORE, PER_POST

    add_index_arguments(parser)
    parser.add_argument("-s", "--site", type=Path,
                        help="the Hugo site the index was built from (names the report; --since runs git there)")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="Markdown (default) or JSON")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE,
                        help=f"weakest suggestion to report (default {DEFAULT_MIN_SCORE})")
    parser.add_argument("--per-post", type=int, default=PER_POST,
                        help=f"suggestions per post (default {PER_POST})")
    parser.add_argument("-o", "--output", type=Path, help="write the report to this file instead of stdout")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--changed", nargs="+", metavar="FILE",
                       help="only these posts: content paths (posts/x.md) or paths to their files")
    scope.add_argument("--since", metavar="GIT_REV",
                       help="only the posts changed since this git revision of the --site repository (default .)")


def crosslinks(args: argparse.Namespace) -> int:
    """Write the cross-link report for every post of the index, or for the posts a change touches."""
    from service.authors.changes import ChangeError, touched
    from service.authors.crosslinks import crosslinks as build
    from service.authors.crosslinks import to_json, to_markdown

    live = open_for("crosslinks", args, prepare=False)  # cross-links read stored vectors: no model
    if live is None:
        return 2
    try:
        change = touched(live, args.changed, args.since, args.site)
    except ChangeError as e:
        print(f"casebook crosslinks: {e}", file=sys.stderr)
        return 2
    if change is not None and change.left_out:  # drafts and broken posts change too; they have no links to check
        print(f"casebook crosslinks: changed but not in the index, left out: {', '.join(change.left_out)}",
              file=sys.stderr)
    report = build(live, args.min_score, args.per_post, None if change is None else change.posts)
    text = to_json(report) if args.format == "json" else to_markdown(report)
    if args.site and args.format == "md":
        text = text.replace("# Cross-link report", f"# Cross-link report: {args.site}", 1)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {len(report.posts)} posts to link, {len(report.orphans)} orphans")
    else:
        sys.stdout.write(text)
    return 0


def add_gaps_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook gaps`."""
    add_index_arguments(parser)
    parser.add_argument("--log", type=Path, help="the gap log (env CASEBOOK_GAP_LOG; <index>/gaps.sqlite)")
    parser.add_argument("--since", help="only questions asked on or after this date (YYYY-MM-DD)")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="Markdown (default) or JSON")
    parser.add_argument("--top", type=int, default=20, help="groups shown in Markdown (default 20)")


def gaps(args: argparse.Namespace) -> int:
    """Print the unanswered questions grouped by meaning, the most asked first, with the closest posts."""
    import sqlite3
    from datetime import date

    from service.authors.gap_log import read_unanswered
    from service.authors.gap_report import GapReport, build_report, to_json, to_markdown

    settings = ServiceSettings.from_env(index_dir=args.index, store_location=args.store, gap_log=args.log)
    if settings.gap_log is None:
        print("casebook gaps: the gap log is off (CASEBOOK_GAP_LOG=off); nothing was recorded", file=sys.stderr)
        return 2
    try:
        since = date.fromisoformat(args.since).isoformat() if args.since else None
    except ValueError:
        print(f"casebook gaps: --since has value {args.since!r}. Not a date (YYYY-MM-DD).", file=sys.stderr)
        return 2
    try:
        rows = read_unanswered(settings.gap_log, since)
    except sqlite3.Error as e:
        print(f"casebook gaps: {settings.gap_log}: not a readable gap log ({e})", file=sys.stderr)
        return 2
    if not rows:
        when = f" since {since}" if since else ""
        print(f"casebook gaps: no unanswered questions in {settings.gap_log}{when} yet. The service logs a "
              "question when /api/ask finds no answer or nothing in the blog comes close to a search.",
              file=sys.stderr)
        if args.format == "json":
            print(to_json(GapReport(str(settings.gap_log), since, 0, None, ())))
        return 0
    live = open_for("gaps", args)
    if live is None:
        return 2
    report = build_report(live, rows, str(settings.gap_log), since)
    sys.stdout.write(to_json(report) + "\n" if args.format == "json" else to_markdown(report, args.top))
    return 0


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook export hugo`."""
    from service.authors.export import DEFAULT_COUNT

    parser.add_argument("format", choices=("hugo",), help="hugo: the data file the casebook-related.html partial reads")
    parser.add_argument("-s", "--site", type=Path, default=Path("."),
                        help="the Hugo site root; the lists go to SITE/data/casebook/related.json (default .)")
    add_index_arguments(parser)
    parser.add_argument("-k", type=int, default=DEFAULT_COUNT,
                        help=f"related posts per post (default {DEFAULT_COUNT})")
    parser.add_argument("--force", action="store_true", help="write the lists even when the file holds this version's")


def export(args: argparse.Namespace) -> int:
    """Write every post's related posts where Hugo reads data files, for the theme to render at build time."""
    from service.authors.export import export_hugo

    if not args.site.is_dir():
        print(f"casebook export: --site {args.site} is not a folder (the Hugo site's root)", file=sys.stderr)
        return 2
    if not 1 <= args.k <= 50:
        print(f"casebook export: -k has value {args.k}. Not within 1..50.", file=sys.stderr)
        return 2
    live = open_for("export", args, prepare=False)  # related posts read stored vectors: no model
    if live is None:
        return 2
    report = export_hugo(live, args.site, args.k, args.force)
    if report.up_to_date:
        print(f"{report.data_file} is up to date (index version {report.version}, {report.count} per post)")
    else:
        print(f"wrote {report.data_file}: {report.posts} pages, up to {report.count} related posts each, "
              f"from index version {report.version} in {report.seconds:.1f} s")
    return 0
