"""Write a related-posts file for the articles a judged one leaves out, their links read from the index.

    python -m bench.related_outside --index /work/real-index --out var/related_outside.jsonl
    casebook eval --related var/related_outside.jsonl --index /work/real-index --site ../shared/site

The judged file (`../shared/eval/related_dev.jsonl`) is what the related-posts model was fitted on; the
other articles are never seen by it. Their judgments here are the links the index keeps for them,
resolved to articles (hubs, root pages and the post itself left out): on the dev posts that is exactly the
judged file for standalone posts, and for series parts it adds some navigation links (bench/QUALITY.md,
experiment R2). A proxy, so compare systems on it, not with the dev figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from casebook.eval.related import read_related
from index import FolderStore
from service.authors.related import PassageSpace
from service.search.live import Live


def outside(space: PassageSpace, judged: set[str]) -> list[dict[str, object]]:
    """One line per article outside `judged`: its path and the articles it links to, sorted."""
    articles = set(space.paths)
    return [{"path": path, "links": sorted(t for t in space.links.get(path, ()) if t in articles and t != path)}
            for path in space.paths if path not in judged]


def main(argv: list[str] | None = None) -> int:
    """Write the file; say how many posts and links it holds."""
    parser = argparse.ArgumentParser(prog="python -m bench.related_outside", description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("var/real-index"))
    parser.add_argument("--related", type=Path, default=Path("../shared/eval/related_dev.jsonl"))
    parser.add_argument("--out", type=Path, default=Path("var/related_outside.jsonl"))
    args = parser.parse_args(argv)
    space = PassageSpace(Live(FolderStore(args.index).open()))
    lines = outside(space, {p.path for p in read_related(args.related)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    linked = [line for line in lines if line["links"]]
    print(f"{args.out}: {len(lines)} articles outside {args.related.name}, {len(linked)} with links")
    return 0


if __name__ == "__main__":
    sys.exit(main())
