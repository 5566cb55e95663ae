"""`casebook eval --related FILE`: how many of the links an author made a ranking finds
(../shared/eval/related_dev.jsonl), with Hugo's related content as the baseline."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from casebook.eval.metrics import ndcg, recall
from casebook.eval.questions import read_jsonl
from casebook.eval.tables import grid


@dataclass(frozen=True)
class LinkedPost:
    """One line of a related-posts file: a post and the other posts its author links to from its body."""

    path: str  # content-relative
    links: tuple[str, ...]

    @property
    def section(self) -> str:
        """The first folder of the path (posts, series, radar, ...); "" for a root page."""
        return self.path.split("/", 1)[0] if "/" in self.path else ""


RelatedSystem = Callable[[str], list[str]]  # a content path -> related content paths, best first


def read_related(path: Path) -> list[LinkedPost]:
    """Read a JSONL file of {"path", "links"} lines; any bad line fails the read with its path and line."""
    return read_jsonl(path, "linked post", _linked_post)


def _linked_post(row: Any) -> LinkedPost:
    if not isinstance(row, dict) or not isinstance(row["path"], str):
        raise ValueError("a line must be an object with a string path")
    links = row["links"]
    if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
        raise ValueError("links must be a list of content paths")
    return LinkedPost(row["path"], tuple(links))


def run_related(system: RelatedSystem, posts: Sequence[LinkedPost]) -> dict[str, list[tuple[float, float]]]:
    """Recall@10 and nDCG@10 of the system's list for every post with links, grouped by section."""
    by_section: dict[str, list[tuple[float, float]]] = {}
    for post in posts:
        relevant = dict.fromkeys(post.links, 1)
        if not relevant:
            continue  # nothing to find: recall is undefined
        ranked = system(post.path)
        by_section.setdefault(post.section, []).append(
            (recall(ranked, relevant) or 0.0, ndcg(ranked, relevant) or 0.0))
    return by_section


def summarise_related(by_section: Mapping[str, Sequence[tuple[float, float]]]) -> dict[str, dict[str, float | int]]:
    """Mean Recall@10 and nDCG@10 per section, plus an "all" row."""
    rows = {section: _related_row(values) for section, values in sorted(by_section.items())}
    rows["all"] = _related_row([v for values in by_section.values() for v in values])
    return rows


def _related_row(values: Sequence[tuple[float, float]]) -> dict[str, float | int]:
    if not values:
        return {"n": 0, "recall": 0.0, "ndcg": 0.0}
    return {"n": len(values), "recall": round(float(np.mean([r for r, _ in values])), 4),
            "ndcg": round(float(np.mean([n for _, n in values])), 4)}


def render(tables: dict[str, dict[str, dict[str, float | int]]], posts: list[LinkedPost]) -> str:
    """One row per section: how many posts, then Recall@10 and nDCG@10 for each system side by side."""
    names = list(tables)
    head = ["section", "posts", *(f"{name} {metric}" for name in names for metric in ("R@10", "nDCG@10"))]
    sections = list(next(iter(tables.values())))
    rows = [[section, str(tables[names[0]][section]["n"]),
             *(f"{tables[name][section][metric]:.3f}" for name in names for metric in ("recall", "ndcg"))]
            for section in sections]
    skipped = sum(not p.links for p in posts)
    return (grid(head, rows) + f"\n\n{len(posts) - skipped} posts with links scored ({skipped} without links left "
            f"out); hugo = Hugo's related content, default indices, includeNewer.")
