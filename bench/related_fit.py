"""Fit the related-posts model on one half of a related-posts file and score it on both halves.

    python -m bench.related_fit --index var/real-index --related ../shared/eval/related_dev.jsonl
    python -m bench.related_fit ... --without inbound names     # the same fit with some signals left out

The posts are split in two by a hash of their path, so the halves stay the same when the file is
re-ordered or grows. The weights are fitted on half `a` only (logistic regression, L2, the rare
positive class weighted up); half `b` is what the model never saw. Prints the weights to paste
into `service/authors/related.py` and a table per half and section. Details in bench/QUALITY.md.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from casebook.eval.related import LinkedPost, read_related, run_related, summarise_related
from index import FolderStore
from service.authors.related import MODEL, SIGNALS, LinkModel, PassageSpace, related_posts, same_group, signals
from service.search.live import Live

L2 = 1.0  # ridge on the weights (not the intercept); 0.1 to 10 give the same rankings on half b


def half(path: str) -> str:
    """"a" or "b": a stable split of the posts by a hash of their path."""
    return "ab"[hashlib.sha256(path.encode()).digest()[0] % 2]


def training_rows(live: Live, space: PassageSpace, posts: list[LinkedPost]) -> tuple[np.ndarray, np.ndarray]:
    """Signal values of every (post, candidate) pair and whether the author linked it."""
    rows, labels = [], []
    for linked in posts:
        source = live.version.posts.get(linked.path)
        if source is None or not linked.links:
            continue
        values = signals(space, source)
        keep = [j for j, p in enumerate(space.paths) if not same_group(source, live.version.posts[p])]
        rows.append(values[keep])
        labels.append(np.array([space.paths[j] in linked.links for j in keep], dtype=np.float64))
    return np.vstack(rows), np.concatenate(labels)


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


def main(argv: list[str] | None = None) -> int:
    """Fit on half a, print the weights and the table for both halves."""
    parser = argparse.ArgumentParser(prog="python -m bench.related_fit", description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("var/real-index"))
    parser.add_argument("--related", type=Path, default=Path("../shared/eval/related_dev.jsonl"))
    parser.add_argument("--without", nargs="*", default=[], choices=SIGNALS, help="signals to leave out")
    parser.add_argument("--committed", action="store_true", help="score the committed MODEL instead of fitting")
    args = parser.parse_args(argv)
    live = Live(FolderStore(args.index).open())
    space = PassageSpace(live)
    posts = read_related(args.related)
    halves = {h: [p for p in posts if half(p.path) == h] for h in "ab"}
    if args.committed:
        model = MODEL
    else:
        x, y = training_rows(live, space, halves["a"])
        dropped = [SIGNALS.index(name) for name in args.without]
        x[:, dropped] = 0.0
        model = fit(x, y)
        print(f"MODEL = LinkModel(weights={model.weights}, intercept={model.intercept})")
    print("| half | section | n | R@10 | nDCG@10 |\n|---|---|---|---|---|")
    for name, part in halves.items():
        def system(path: str) -> list[str]:
            return [r.post.path for r in related_posts(live, space, path, 10, model)]

        for section, row in summarise_related(run_related(system, part)).items():
            print(f"| {name} | {section} | {row['n']} | {row['recall']:.3f} | {row['ndcg']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
