"""`casebook ci`: a blog's CI job in one command (Hugo sources, or any generator's output with --built);
docs/ci/ has the GitHub and GitLab files that call it.

1. ingest the site into the index folder the CI cache restored (incremental: unchanged passages keep
   their vectors), and keep the `--json` report; a broken post fails the job, as `--strict` does;
2. lay the published version and its model out as the deploy artifact (`rollback --to <id>` on the server);
3. for a Hugo site, every post's related posts into its data/casebook/related.json, for the theme's partial to
   render when `hugo` builds the site next (`casebook export hugo`);
4. for a review (`--since REV` or `--changed FILE...`), the cross-link report of the posts touched;
5. trim the index folder to what the next run needs, so the cache stays one version.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from index.errors import IndexError_
from index.folder import FolderStore
from ingest.cli import summary
from ingest.errors import IngestError
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings
from service.authors.changes import ChangeError, touched
from service.authors.crosslinks import crosslinks, to_markdown
from service.authors.export import ExportReport, export_hugo
from service.authors.related import related_space
from service.search.holder import open_live
from service.search.live import Live


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `casebook ci`."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-s", "--site", type=Path, help="Hugo site root (default .)")
    where.add_argument("-b", "--built", type=Path, metavar="DIR",
                       help="instead, the folder your generator built (public/, _site/, dist/, output/, site/)")
    parser.add_argument("--base-url", metavar="URL",
                        help="with --built: the site's public URL, when its pages carry no canonical link")
    parser.add_argument("-i", "--index", type=Path,
                        help="index folder the CI cache restores and saves (env CASEBOOK_INDEX, default var/index)")
    parser.add_argument("-o", "--out", type=Path, default=Path("casebook-out"),
                        help="where the reports and the deploy artifact go (default casebook-out)")
    change = parser.add_mutually_exclusive_group()
    change.add_argument("--since", metavar="GIT_REV", help="review: link suggestions for posts changed since GIT_REV")
    change.add_argument("--changed", nargs="+", metavar="FILE", help="review: link suggestions for these posts")
    parser.add_argument("--summary", type=Path,
                        help="append the Markdown summary to this file (GitHub: $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--keep", type=int, default=1, help="index versions to keep for the cache (default 1)")
    parser.add_argument("--no-export", action="store_true",
                        help="leave out SITE/data/casebook/related.json (for a theme without casebook-related.html; "
                             "a --built site never gets it: the export feeds Hugo's build)")


def run(args: argparse.Namespace) -> int:
    """Run the job; exit 1 when a post is broken, 2 when the job could not run."""
    out: Path = args.out
    site: Path = args.site or Path(".")
    try:
        if args.built and args.since is not None:
            raise ValueError("--since reads git's changed Markdown; with --built, name the changed pages with "
                             "--changed public/posts/x/index.html")
        if args.base_url and not args.built:
            raise ValueError("--base-url goes with --built")
        settings = IngestSettings.from_env(content_dir=site / "content", site_dir=None if args.built else site,
                                           built_dir=args.built, base_url=args.base_url, index_dir=args.index)
        report = run_ingest(settings)
    except (IngestError, IndexError_, ValueError) as e:
        print(f"casebook ci: {e}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    print(summary(report, settings))
    store = settings.store()
    shutil.rmtree(out / "index", ignore_errors=True)  # an earlier run's artifact must not ship again
    (out / "VERSION").unlink(missing_ok=True)
    if not report.skipped and report.version:
        (out / "VERSION").write_text(report.version + "\n", encoding="utf-8")
        if isinstance(store, FolderStore):
            shipped = store.export(report.version, out / "index")
            print(f"deploy artifact: {shipped} (and its model under {out / 'index' / 'models'})")
        else:  # a database store: the servers reading it switch to the published version themselves
            print(f"published version {report.version} to {settings.store_label}; no artifact to ship")
    parts = [_ingest_markdown(report)]
    review = args.since is not None or args.changed is not None
    export = bool(report.version) and not args.no_export and not args.built
    live: Live | None = None
    if review or export:
        try:
            live = open_live(settings, prepare=False)  # related posts and cross-links read stored vectors: no model
        except IndexError_ as e:
            print(f"casebook ci: {e}", file=sys.stderr)
            return 2
    if live is not None and export:
        try:
            line = _export_line(export_hugo(live, site), site)
        except OSError as e:
            print(f"casebook ci: related posts for Hugo: {e}", file=sys.stderr)
            return 2
        print(line.replace("`", ""))
        parts[0] += line + "\n"
    if review and live is not None:
        try:
            changed = [_page_name(name, args.built) for name in args.changed] if args.built and args.changed \
                else args.changed
            change = touched(live, changed, args.since, site)
        except (ChangeError, IndexError_) as e:
            print(f"casebook ci: {e}", file=sys.stderr)
            return 2
        space = live.derived(related_space)  # the export's, when it ran
        links = to_markdown(crosslinks(live, only=change.posts if change else None, space=space))
        if change and change.left_out:  # drafts and broken posts: changed, but not in the index
            links += "\nChanged but not indexed: " + ", ".join(f"`{name}`" for name in change.left_out) + ".\n"
        (out / "crosslinks.md").write_text(links, encoding="utf-8")
        parts.append(re.sub(r"^#", "##", links, flags=re.MULTILINE))  # under the summary's own heading
    text = "\n".join(parts)
    (out / "summary.md").write_text(text, encoding="utf-8")
    if args.summary:
        with args.summary.open("a", encoding="utf-8") as handle:
            handle.write(text)
    store.prune(args.keep)
    return 1 if report.skipped else 0


def _export_line(report: ExportReport, site: Path) -> str:
    """What the export did, in one line of the log and the summary."""
    where = report.data_file.relative_to(site).as_posix()
    if report.up_to_date:
        return f"Related posts for Hugo: `{where}` already holds version `{report.version}`'s lists."
    return (f"Related posts for Hugo: wrote `{where}` ({report.posts} pages, up to {report.count} related posts "
            f"each) in {report.seconds:.1f} s.")


def _page_name(name: str, built: Path) -> str:
    """A changed page as the index names it: relative to the built folder ("public/a/index.html" -> "a/index.html")."""
    on_disk = Path(name).resolve()
    return on_disk.relative_to(built.resolve()).as_posix() if on_disk.is_relative_to(built.resolve()) else name


def _ingest_markdown(report: IngestReport) -> str:
    """The ingest's part of the job summary: counts, and each broken post as `path:line: reason`."""
    if report.up_to_date:
        head = f"Index version `{report.version}` is up to date: {report.posts} posts, {report.passages} passages."
    else:
        head = (f"Published index version `{report.version}`: {report.posts} posts, {report.passages} passages; "
                f"embedded {report.embedded}, reused {report.reused}, in {report.seconds:.1f} s.")
    lines = ["# Casebook", "", head, ""]
    if report.skipped:
        lines += [f"**{len(report.skipped)} broken posts were left out; the job fails until they are fixed:**", ""]
        lines += [f"- `{error}`" for error in report.skipped] + [""]
    return "\n".join(lines)
