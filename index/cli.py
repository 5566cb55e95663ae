"""`casebook index list|rollback`: the versions kept in an index folder, and publishing an older one again."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from index.errors import IndexCorrupt, IndexError_, IndexMismatch
from index.manifest import Manifest
from index.settings import SharedSettings
from index.store import Store

STORE_HELP = ("where the index is: a postgresql://user@host/db URL, or an index folder "
              "(env CASEBOOK_STORE; default: the --index folder)")


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    """The `--store` flag every command reading or writing the index has."""
    parser.add_argument("--store", metavar="URL_OR_DIR", help=STORE_HELP)


def add_index_arguments(parser: argparse.ArgumentParser) -> None:
    """`--index` and `--store`: where a command finds the index."""
    parser.add_argument("-i", "--index", type=Path, help="index folder (env CASEBOOK_INDEX, default var/index)")
    add_store_argument(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `index` sub-commands and their flags."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the versions kept, oldest first; * marks the published one")
    rollback = actions.add_parser("rollback", help="publish an older version again (the service reloads it)")
    for sub in (listing, rollback):
        add_index_arguments(sub)
    listing.add_argument("--json", action="store_true", help="print the versions as JSON")
    rollback.add_argument("--to", metavar="VERSION", help="the version to publish (default: the one before)")
    rollback.add_argument("--wait", type=float, default=10.0, help="seconds to wait for an ingest's lock")


def run(args: argparse.Namespace) -> int:
    """Run the action; errors become one printed line and exit code 2."""
    try:
        store = SharedSettings.from_env(index_dir=args.index, store_location=args.store).store()
    except ValueError as e:
        print(f"casebook index: {e}", file=sys.stderr)
        return 2
    try:
        return list_command(store, args.json) if args.action == "list" else rollback(store, args.to, args.wait)
    except (IndexError_, ValueError) as e:
        print(f"casebook index: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()


@dataclass(frozen=True)
class VersionRow:
    """One kept version as `index list` shows it: its manifest, or why it cannot be read."""

    version: str
    current: bool
    manifest: Manifest | None
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        """The row for `--json`."""
        if self.manifest is None:
            return {"version": self.version, "current": self.current, "error": self.error}
        return {"version": self.version, "current": self.current, "built_at": self.manifest.built_at,
                "model": self.manifest.model, "counts": self.manifest.counts}

    def as_line(self) -> str:
        """The row for people: * marks the published version."""
        mark = "*" if self.current else " "
        if self.manifest is None:
            return f"{mark} {self.version}  ?  ? posts, ? passages  (unreadable: {self.error})"
        counts = self.manifest.counts
        return (f"{mark} {self.version}  {self.manifest.built_at}  {counts.get('posts', '?')} posts, "
                f"{counts.get('passages', '?')} passages  {self.manifest.model}")


def list_command(store: Store, as_json: bool) -> int:
    """Print every complete version with its size, model and build time."""
    current = store.published()
    rows = [_describe(store, version, version == current) for version in store.versions()]
    if as_json:
        print(json.dumps({"current": current, "versions": [row.as_json() for row in rows]}, indent=2))
    elif not rows:
        print(f"{store}: no versions (run `casebook ingest`)")
    else:
        print("\n".join(row.as_line() for row in rows))
    return 0


def rollback(store: Store, target: str | None, wait: float) -> int:
    """Publish `target`, or the newest version older than the published one."""
    published, previous = store.rollback(target, wait)
    print(f"published {published} (was {previous}); a running service switches to it within its reload interval")
    return 0


def _describe(store: Store, version: str, is_current: bool) -> VersionRow:
    try:
        return VersionRow(version, is_current, store.manifest(version))
    except (IndexCorrupt, IndexMismatch) as e:
        return VersionRow(version, is_current, None, str(e))
