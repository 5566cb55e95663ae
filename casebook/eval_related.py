"""`casebook eval --related FILE`: related posts against the links authors made, Hugo's as the baseline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from casebook.eval_cli import built_names
from casebook.evaluate import BadQuestions
from casebook.evaluate_related import LinkedPost, RelatedSystem, read_related, run_related, summarise_related
from casebook.hugo_related import HugoRelated, read_pages

K = 10


def run(args: argparse.Namespace) -> int:
    """Score Casebook's and Hugo's related posts on every post of the file that has links; print one table."""
    if not args.site:
        print("casebook eval: --related needs --site (the Hugo site root), for Hugo's related content",
              file=sys.stderr)
        return 2
    if not (args.site / "content").is_dir():
        print(f"casebook eval: {args.site} has no content/ folder; --site is the Hugo site root", file=sys.stderr)
        return 2
    try:
        posts = read_related(args.related)
    except BadQuestions as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return 2
    if not any(p.links for p in posts):
        print(f"casebook eval: no post with links in {args.related}", file=sys.stderr)
        return 2
    casebook = http_related(args.url) if args.url else local_related(args.index, args.store)
    if casebook is None:
        return 2
    try:
        names = None if args.url else built_names(args.index, args.store, args.site)
    except ValueError as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return 2
    if names:
        by_page, naming = casebook, names
        casebook = lambda path: [naming.content(p) for p in by_page(naming.index(path))]  # noqa: E731
    hugo = HugoRelated(read_pages(args.site / "content"))
    systems: dict[str, RelatedSystem] = {"casebook": casebook, "hugo": lambda path: hugo.related(path, K)}
    tables = {name: summarise_related(run_related(system, posts)) for name, system in systems.items()}
    if args.json:
        print(json.dumps({"related": str(args.related), "posts": len(posts), "systems": tables}, indent=2))
    else:
        print(render(tables, posts))
    return 0


def local_related(index_dir: Path | None, store: str | None = None) -> RelatedSystem | None:
    """Casebook's related posts in-process over an index folder (the stored vectors; no model loaded)."""
    from index.errors import IndexError_
    from index.settings import SharedSettings
    from service.catalog import Catalog, UnknownName
    from service.related import PassageSpace, related_posts

    try:
        catalog = Catalog(SharedSettings.from_env(index_dir=index_dir, store_location=store).store().open())
    except (IndexError_, ValueError) as e:
        print(f"casebook eval: {e}", file=sys.stderr)
        return None
    space = PassageSpace(catalog)

    def system(path: str) -> list[str]:
        try:
            return [r.post.path for r in related_posts(catalog, space, path, K)]
        except UnknownName:
            return []  # a post the index does not hold finds nothing

    return system


def http_related(url: str) -> RelatedSystem | None:
    """Casebook's related posts from a running service's /api/related."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60)

    def system(path: str) -> list[str]:
        response = client.get("/api/related", params={"path": path, "k": K})
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return [r["path"] for r in response.json()["related"]]

    try:
        client.get("/readyz").raise_for_status()
    except httpx.HTTPError as e:
        print(f"casebook eval: {url}: {e}", file=sys.stderr)
        return None
    return system


def render(tables: dict[str, dict[str, dict[str, float | int]]], posts: list[LinkedPost]) -> str:
    """One row per section: how many posts, then Recall@10 and nDCG@10 for each system side by side."""
    names = list(tables)
    head = ["section", "posts", *(f"{name} {metric}" for name in names for metric in ("R@10", "nDCG@10"))]
    sections = list(next(iter(tables.values())))
    rows = [[section, str(tables[names[0]][section]["n"]),
             *(f"{tables[name][section][metric]:.3f}" for name in names for metric in ("recall", "ndcg"))]
            for section in sections]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in [head, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    skipped = sum(not p.links for p in posts)
    lines.append(f"\n{len(posts) - skipped} posts with links scored ({skipped} without links left out); "
                 f"hugo = Hugo's related content, default indices, includeNewer.")
    return "\n".join(lines)
