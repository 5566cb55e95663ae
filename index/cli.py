"""`casebook index list|rollback`: the versions kept in an index folder, and publishing an older one again."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from index.errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexMissing
from index.settings import SharedSettings
from index.store import FolderStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `index` sub-commands and their flags."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the versions kept, oldest first; * marks the published one")
    rollback = actions.add_parser("rollback", help="publish an older version again (the service reloads it)")
    for sub in (listing, rollback):
        sub.add_argument("-i", "--index", type=Path, help="index folder (env CASEBOOK_INDEX; var/index)")
    listing.add_argument("--json", action="store_true", help="print the versions as JSON")
    rollback.add_argument("--to", metavar="VERSION", help="the version to publish (default: the one before)")
    rollback.add_argument("--wait", type=float, default=10.0, help="seconds to wait for an ingest's lock")


def run(args: argparse.Namespace) -> int:
    """Run the action; errors become one printed line and exit code 2."""
    try:
        store = SharedSettings.from_env(index_dir=args.index).store()
        return list_command(store, args.json) if args.action == "list" else rollback(store, args.to, args.wait)
    except (IndexMissing, IndexCorrupt, IndexMismatch, IndexLocked, ValueError) as e:
        print(f"casebook index: {e}", file=sys.stderr)
        return 2


def list_command(store: FolderStore, as_json: bool) -> int:
    """Print every complete version with its size, model and build time."""
    current = store.published()
    rows = [_describe(store, version, version == current) for version in store.versions()]
    if as_json:
        print(json.dumps({"current": current, "versions": rows}, indent=2))
    elif not rows:
        print(f"{store}: no versions (run `casebook ingest`)")
    for row in [] if as_json else rows:
        counts: dict[str, int] = row.get("counts") or {}  # type: ignore[assignment]
        size = f"{counts.get('posts', '?')} posts, {counts.get('passages', '?')} passages"
        problem = f"  (unreadable: {row['error']})" if "error" in row else ""
        print(f"{'*' if row['current'] else ' '} {row['version']}  {row.get('built_at', '?')}  {size}  "
              f"{row.get('model', '')}{problem}")
    return 0


def rollback(store: FolderStore, target: str | None, wait: float) -> int:
    """Publish `target`, or the newest version older than the published one."""
    published, previous = store.rollback(target, wait)
    print(f"published {published} (was {previous}); a running service switches to it within its reload interval")
    return 0


def _describe(store: FolderStore, version: str, is_current: bool) -> dict[str, object]:
    row: dict[str, object] = {"version": version, "current": is_current}
    try:
        manifest = store.manifest(version)
    except (IndexCorrupt, IndexMismatch) as e:
        return {**row, "error": str(e)}
    return {**row, "built_at": manifest.built_at, "model": manifest.model, "counts": manifest.counts}
