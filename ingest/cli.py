"""`casebook ingest` / `python -m ingest`: build the index from a Hugo site or any built site, or --check it."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from index import IndexCorrupt, IndexLocked, IndexMismatch, IndexMissing
from index.cli import add_index_arguments
from index.errors import ModelUnavailable, StoreUnavailable
from ingest.check import check_index
from ingest.errors import IngestError
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ingest flags, shared by `casebook ingest` and `python -m ingest`."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-s", "--site", type=Path, help="Hugo site root (hugo.toml + content/)")
    where.add_argument("-c", "--content", type=Path, help="content folder alone (default: ./content)")
    where.add_argument("-b", "--built", type=Path, metavar="DIR",
                       help="any static-site generator's output folder (public/, _site/, dist/, output/, site/)")
    parser.add_argument("--base-url", metavar="URL",
                        help="with --built: the site's public URL, when its pages carry no canonical link")
    add_index_arguments(parser)
    parser.add_argument("--reuse-vectors-from", metavar="URL_OR_DIR",
                        help="another store whose published vectors may be reused (a folder when moving to "
                             "PostgreSQL): passages it embedded are not embedded again")
    parser.add_argument("--check", action="store_true", help="exit 1 when the index is stale; change nothing")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any post was skipped as broken")
    parser.add_argument("--drafts", action="store_true", help="index draft posts too")
    parser.add_argument("--model", help="sentence-transformers model name or path (env CASEBOOK_MODEL)")
    parser.add_argument("--chunk-tokens", type=int, help="passage budget in tiktoken tokens (default 180)")
    parser.add_argument("--overlap", type=int, dest="overlap_tokens", help="overlap in tokens (default 30)")
    parser.add_argument("--index-kind", choices=["auto", "flat", "hnsw", "ivf"],
                        help="FAISS index type (default auto: flat up to 50,000 passages, ivf past it)")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another ingest's lock")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def settings_from_args(args: argparse.Namespace) -> IngestSettings:
    """Build the run's settings once: flags over environment over defaults."""
    site = args.site
    content = site / "content" if site else (args.content or Path("content"))
    if args.base_url and not args.built:
        raise ValueError("--base-url goes with --built (a Hugo site's URLs come from its hugo.toml)")
    return IngestSettings.from_env(
        content_dir=content, site_dir=site, built_dir=args.built, base_url=args.base_url, index_dir=args.index,
        store_location=args.store,
        reuse_vectors_from=args.reuse_vectors_from, model=args.model, chunk_tokens=args.chunk_tokens,
        overlap_tokens=args.overlap_tokens, index_kind=args.index_kind, drafts=args.drafts or None,
        lock_wait_seconds=args.wait,
    )


def run(args: argparse.Namespace) -> int:
    """Run the command; errors become one printed line and an exit code."""
    try:
        settings = settings_from_args(args)
        if args.check:
            report = check_index(settings)
            print(json.dumps(asdict(report), indent=2) if args.json else report.describe())
            return 0 if report.current else 1
        result = run_ingest(settings, progress=not (args.quiet or args.json) and sys.stderr.isatty())
    except (IngestError, IndexLocked, ModelUnavailable, StoreUnavailable, ValueError) as e:
        print(f"casebook ingest: {e}", file=sys.stderr)
        return 2
    except (IndexMissing, IndexCorrupt, IndexMismatch) as e:
        print(f"casebook ingest: index problem: {e}", file=sys.stderr)
        return 2
    print(_as_json(result) if args.json else summary(result, settings))
    return 1 if args.strict and result.skipped else 0


def summary(report: IngestReport, settings: IngestSettings) -> str:
    """The one-paragraph summary for humans, with one line per skipped post."""
    if report.up_to_date:
        head = (f"Index {settings.store_label} is up to date (version {report.version}: {report.posts} posts, "
                f"{report.passages} passages, {report.series} series); nothing to do.")
    else:
        head = (
            f"Indexed {report.posts} posts into {report.passages} passages ({report.tokens} tokens) and "
            f"{report.series} series in {report.seconds:.1f} s; embedded {report.embedded}, reused {report.reused}; "
            f"{report.split_for_model} split to fit the model, {report.truncated} truncated; "
            f"{report.boilerplate_sentences} boilerplate sentences left out, {report.near_duplicates} near-duplicate "
            f"posts grouped; {report.drafts} drafts not indexed; {len(report.skipped)} skipped as broken. "
            f"Published version {report.version} in {settings.store_label}."
        )
    if report.not_articles:
        reasons = Counter(page.reason for page in report.not_articles)
        head += (f"\n{len(report.not_articles)} built pages are not articles and were left out: "
                 + ", ".join(f"{reason} {n}" for reason, n in reasons.most_common()) + " (--json lists them).")
    return "\n".join([head, *(f"  skipped {error}" for error in report.skipped)])


def _as_json(report: IngestReport) -> str:
    return json.dumps(asdict(report), indent=2)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m ingest`."""
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
