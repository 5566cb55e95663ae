"""Fit the related-posts model on a related-posts file and say how it does on posts it was not fitted on.

    python -m bench.related_fit --index var/real-index --related ../shared/eval/related_dev.jsonl
    python -m bench.related_fit ... --without inbound names     # the same fits with some signals left out
    python -m bench.related_fit ... --committed                 # the committed MODEL on the same splits

Three tables. Held out: repeated k-fold cross-validation, each post ranked by a model fitted on the
other folds only (the figure to choose signals by). Halves: the file cut in two by a hash of each
post's path, fitted on half `a` and scored on both (experiment R's split). Whole file: the weights
to paste into `service/authors/related.py`, fitted on every post, and that model's own (not held-out) table.
Folds and halves are hashes of the path, so they stay the same when the file is re-ordered or grows.
Details in bench/QUALITY.md.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from casebook.eval.related import LinkedPost, read_related, run_related, summarise_related
from index import FolderStore
from service.authors.related import MODEL, SIGNALS, LinkModel, PassageSpace, related_posts, same_group, signals
from service.search.live import Live

L2 = 1.0  # ridge on the weights (not the intercept); 0.1 to 10 move held-out recall by less than 0.01
FOLDS = 5
REPEATS = 3

Rows = dict[str, tuple[np.ndarray, np.ndarray]]  # per source post: signal values and whether it was linked


def half(path: str) -> str:
    """"a" or "b": a stable split of the posts by a hash of their path."""
    return "ab"[hashlib.sha256(path.encode()).digest()[0] % 2]


def fold(path: str, repeat: int, folds: int = FOLDS) -> int:
    """The post's fold in one repeat of k-fold cross-validation: a hash of the repeat and the path."""
    return hashlib.sha256(f"{repeat}:{path}".encode()).digest()[0] % folds


def training_rows(live: Live, space: PassageSpace, posts: Sequence[LinkedPost]) -> Rows:
    """Signal values of every (post, candidate) pair and whether the author linked it, per post."""
    rows = {}
    for linked in posts:
        source = live.version.posts.get(linked.path)
        if source is None or not linked.links:
            continue
        values = signals(space, source)
        keep = [j for j, p in enumerate(space.paths) if not same_group(source, live.version.posts[p])]
        rows[linked.path] = (values[keep], np.array([space.paths[j] in linked.links for j in keep], dtype=np.float64))
    return rows


def fit_on(rows: Rows, paths: Sequence[str], without: Sequence[str] = ()) -> LinkModel:
    """The model fitted on the rows of some posts, the signals `without` names held at zero."""
    x = np.vstack([rows[p][0] for p in paths if p in rows])
    y = np.concatenate([rows[p][1] for p in paths if p in rows])
    x[:, [SIGNALS.index(name) for name in without]] = 0.0
    return fit(x, y)


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2) -> LinkModel:
    """Logistic regression with the few links weighted up to count as much as all the other pairs."""
    weight = np.where(y > 0, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1)) * len(y)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta[:-1] + theta[-1]
        p = 1 / (1 + np.exp(-z))
        value = np.sum(weight * (np.logaddexp(0, z) - y * z)) + 0.5 * l2 * theta[:-1] @ theta[:-1]
        gradient = np.append(x.T @ (weight * (p - y)) + l2 * theta[:-1], np.sum(weight * (p - y)))
        return float(value), gradient

    theta = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B").x
    # Weighting the classes equally moved the intercept by the log of their ratio; moving it back
    # makes the score a probability again (King and Zeng's prior correction), without changing the order.
    intercept = theta[-1] - np.log((1 - y).sum() / max(y.sum(), 1))
    return LinkModel(tuple(round(float(w), 2) for w in theta[:-1]), round(float(intercept), 2))


def held_out(live: Live, space: PassageSpace, posts: Sequence[LinkedPost], rows: Rows,
             model_for: Callable[[list[str]], LinkModel], repeats: int = REPEATS,
             folds: int = FOLDS) -> dict[str, dict[str, float | int]]:
    """Each post ranked by the model fitted without its fold, every repeat; the mean per section."""
    by_section: dict[str, list[tuple[float, float]]] = {}
    for repeat in range(repeats):
        for k in range(folds):
            model = model_for([p for p in rows if fold(p, repeat, folds) != k])
            scored = run_related(ranking(live, space, model), [p for p in posts if fold(p.path, repeat, folds) == k])
            for section, values in scored.items():
                by_section.setdefault(section, []).extend(values)
    return summarise_related(by_section)


def ranking(live: Live, space: PassageSpace, model: LinkModel) -> Callable[[str], list[str]]:
    """The top 10 of one model, as `run_related` asks for it."""
    return lambda path: [r.post.path for r in related_posts(live, space, path, 10, model)]


def print_table(name: str, table: dict[str, dict[str, float | int]], repeats: int = 1) -> None:
    """One row per section, with its number of posts."""
    for section, row in table.items():
        print(f"| {name} | {section} | {int(row['n']) // repeats} | {row['recall']:.3f} | {row['ndcg']:.3f} |")


def main(argv: list[str] | None = None) -> int:
    """Cross-validate, fit on half a, fit on the whole file; print the tables and the whole file's weights."""
    parser = argparse.ArgumentParser(prog="python -m bench.related_fit", description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("var/real-index"))
    parser.add_argument("--related", type=Path, default=Path("../shared/eval/related_dev.jsonl"))
    parser.add_argument("--without", nargs="*", default=[], choices=SIGNALS, help="signals to leave out")
    parser.add_argument("--committed", action="store_true", help="score the committed MODEL instead of fitting")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="repeats of the k-fold split (held-out table)")
    args = parser.parse_args(argv)
    live = Live(FolderStore(args.index).open())
    space = PassageSpace(live)
    posts = [p for p in read_related(args.related) if p.links]
    rows = training_rows(live, space, posts)

    def model_for(paths: list[str]) -> LinkModel:
        return MODEL if args.committed else fit_on(rows, paths, args.without)

    print("| split | section | n | R@10 | nDCG@10 |\n|---|---|---|---|---|")
    print_table(f"held out ({FOLDS}-fold x {args.repeats})",
                held_out(live, space, posts, rows, model_for, args.repeats), args.repeats)
    on_a = model_for([p.path for p in posts if half(p.path) == "a"])
    for name in "ab":
        print_table(f"half {name}", summarise_related(run_related(
            ranking(live, space, on_a), [p for p in posts if half(p.path) == name])))
    whole = model_for(list(rows))
    print_table("whole file (fitted on it)", summarise_related(run_related(ranking(live, space, whole), posts)))
    print(f"\nMODEL = LinkModel(weights={whole.weights}, intercept={whole.intercept})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
