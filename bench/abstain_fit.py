"""Fit the abstain rule (service/answers/confidence.py `Rule`) by 5-fold cross-validation on bench/calibration/.

Not a section of `python -m bench`:
    python -m bench.abstain_fit --index /work/real-index [--features var/abstain-features.json] [--dev]

Each question of the calibration set (and, with --dev, ../shared/eval/dev.jsonl as a check that is never fitted
on) is ranked and assessed once, in process: the evidence score, the composed answer, and where the cited
passages hold each question word (`service.answers.subject`). The rule's constants are then chosen on four folds
(the most balanced accuracy: share of unanswerable questions abstained on plus share of answerable ones answered;
within one question of the best, the rule answering most) and applied to the fifth; the held-out decisions of
the five folds are pooled and reported, never the fit. The same is done with each part of the rule left out, to
say what it adds. The calibration (confidence = logistic of the support) is fitted the same way, on whether each
answer given held its question's core point.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench.calibration_set import FOLDS, SET_DIR, read_set
from casebook.eval.metrics import Nugget, nugget_recall, vital
from casebook.eval.questions import read_nuggets, read_questions
from service.answers.confidence import JUDGES, PARTS, RULE, Rule, support
from service.answers.subject import Subject, Word

GRID: dict[str, list[float]] = {
    "abstain_below": [round(0.10 + 0.01 * i, 2) for i in range(36)],
    "rare_share": [0.002, 0.005, 0.01, 0.02],
    "rare_rank": [5000, 8000, 12000, 20000, 1_000_000],
    "model_close": [0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
}
SLOPES = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0]
MIDDLES = [round(0.20 + 0.025 * i, 3) for i in range(21)]
NOISE = 0.006  # balanced accuracy: about one question in 187 unanswerable (0.0053) or 216 answerable (0.0046)
BANDS = ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 1.01))


@dataclass(frozen=True)
class Case:
    """One question as the rule reads it, with what a right decision is."""

    qid: str
    fold: int  # -1 for dev
    kind: str  # answerable, off-topic, near-miss, absent-detail (dev's unanswerable: "unanswerable")
    score: float
    composed: bool
    subject: Subject | None
    vital: float  # the composed answer holds the core point (answerable only; 0 otherwise)
    recall: float

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def assess_all(index: Path, questions: Iterable[tuple[str, str, int, str, tuple[Nugget, ...]]]) -> list[Case]:
    """Rank and assess each question once, in process, on the index."""
    from index.settings import SharedSettings
    from service.answers.answer import SOURCE_PASSAGES, assess
    from service.search.holder import open_live
    from service.search.live import Filters
    from service.search.query import read_query
    from service.search.results import ranked

    live = open_live(SharedSettings.from_env(index_dir=index))
    out = []
    for qid, query, fold, kind, nuggets in questions:
        with live.version.reading():
            ranking = ranked(live, read_query(live, query), Filters(), SOURCE_PASSAGES)
            assessed = assess(live, ranking, model=True)
        text = assessed.composed.text if assessed.composed else None
        out.append(Case(qid, fold, kind, assessed.score, assessed.composed is not None, assessed.subject,
                        float(vital(text, nuggets) or 0.0) if text else 0.0,
                        float(nugget_recall(text, nuggets) or 0.0) if text else 0.0))
    return out


def answers(case: Case, rule: Rule) -> bool:
    """The rule's decision for one question (as `service.answers.answer.decide` takes it)."""
    return held(case, rule) >= rule.abstain_below


def held(case: Case, rule: Rule) -> float:
    """The support the threshold reads (0 when nothing was composed)."""
    if not case.composed or case.subject is None:
        return 0.0
    return support(case.score, case.subject, rule)


def rates(cases: Sequence[Case], decisions: Sequence[bool]) -> tuple[float, float]:
    """(share of unanswerable abstained on, share of answerable answered)."""
    no = [d for c, d in zip(cases, decisions, strict=True) if not c.answerable]
    yes = [d for c, d in zip(cases, decisions, strict=True) if c.answerable]
    return (1 - sum(no) / len(no) if no else math.nan, sum(yes) / len(yes) if yes else math.nan)


def fit(cases: Sequence[Case], judges: tuple[str, ...] = JUDGES, parts: tuple[str, ...] = PARTS) -> Rule:
    """The grid's rule with the most balanced accuracy on the cases (share of unanswerable abstained on + share of
    answerable answered); among the rules within NOISE of the best, the one answering most, then the lowest
    threshold: one question more or less is no evidence, and a wrong abstention costs every reader of an
    answerable question like it."""
    grid = dict(GRID)
    if "model" not in judges:
        grid["model_close"] = [1.0]
    if not parts:
        grid["rare_share"], grid["rare_rank"] = [0.0], [0]
    results: list[tuple[float, float, Rule]] = []
    for rare, rank, close in itertools.product(grid["rare_share"], grid["rare_rank"], grid["model_close"]):
        base = replace(RULE, judges=judges, parts=parts, rare_share=rare, rare_rank=int(rank), model_close=close)
        values = [held(c, base) for c in cases]
        for below in grid["abstain_below"]:
            abstained, answered = rates(cases, [v >= below for v in values])
            results.append((abstained + answered, answered, replace(base, abstain_below=below)))
    best = max(balanced for balanced, _, _ in results)
    near = [(answered, -rule.abstain_below, -i) for i, (balanced, answered, rule) in enumerate(results)
            if balanced >= best - NOISE]
    return results[-max(near)[2]][2]


def cross_validate(cases: Sequence[Case], judges: tuple[str, ...],
                   parts: tuple[str, ...] = PARTS) -> tuple[dict[str, bool], list[Rule]]:
    """Held-out decision for every calibration question, and the rule fitted for each fold."""
    held_out: dict[str, bool] = {}
    rules = []
    for fold in range(FOLDS):
        rule = fit([c for c in cases if c.fold != fold], judges, parts)
        rules.append(rule)
        held_out.update({c.qid: answers(c, rule) for c in cases if c.fold == fold})
    return held_out, rules


def calibrate(cases: Sequence[Case], rule: Rule) -> tuple[float, float]:
    """(slope, middle) of the logistic that best predicts, from the support, whether an answer given holds
    the core point (an answer to an unanswerable question never does): least log loss on the grid."""
    best, chosen = math.inf, (RULE.slope, RULE.middle)
    for slope, middle in itertools.product(SLOPES, MIDDLES):
        loss = 0.0
        for c in cases:
            p = min(max(1 / (1 + math.exp(-slope * (held(c, rule) - middle))), 1e-6), 1 - 1e-6)
            loss -= math.log(p) if c.vital else math.log(1 - p)
        if loss < best:
            best, chosen = loss, (slope, middle)
    return chosen


def reliability(rows: Sequence[tuple[float, Case]]) -> list[str]:
    """Markdown rows: confidence band -> answers, share holding the core point, unanswerable ones answered."""
    out = ["| confidence | answers | core point held | unanswerable answered | mean confidence |",
           "|---|---|---|---|---|"]
    for low, high in BANDS:
        band = [(p, c) for p, c in rows if low <= p < high]
        if not band:
            continue
        held = sum(c.vital for _, c in band) / len(band)
        wrong = sum(not c.answerable for _, c in band)
        out.append(f"| {low:.1f}-{min(high, 1.0):.1f} | {len(band)} | {held:.2f} | {wrong} | "
                   f"{sum(p for p, _ in band) / len(band):.2f} |")
    return out


def report(cases: Sequence[Case], dev: Sequence[Case]) -> None:
    """The held-out tables: the whole rule, each part left out, the per-fold spread, the reliability table."""
    calib = [c for c in cases if c.fold >= 0]
    variants: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
        ("evidence score only (today's rule, refitted)", (), ()),
        ("+ names held (word judge)", ("word",), ("names",)),
        ("+ names held (word + post judges)", ("word", "post"), ("names",)),
        ("+ names held (word + model judges)", ("word", "model"), ("names",)),
        ("+ names held (all three judges)", JUDGES, ("names",)),
        ("+ names, + no single ordinary word (word + post)", ("word", "post"), ("names", "ordinary")),
        ("+ names, ordinary, + share of specific words (word + post)", ("word", "post"), ("names", "ordinary",
                                                                                          "share")),
        ("+ names, ordinary, share (all three judges)", JUDGES, ("names", "ordinary", "share")),
        ("+ names, ordinary, share, + the attribute asked said (word + post)", ("word", "post"), PARTS[:4]),
        ("+ names, ordinary, share, detail (all three judges)", JUDGES, PARTS[:4]),
        ("+ names, ordinary, share, detail, + the value tied to it (word + post)", ("word", "post"), PARTS[:5]),
        ("+ names, ordinary, share, detail, tied (all three judges)", JUDGES, PARTS[:5]),
        ("+ names, ordinary, share, detail, tied, + compound names written (word + post)", ("word", "post"), PARTS),
        ("+ names, ordinary, share, detail, tied, compounds (all three judges)", JUDGES, PARTS),
    ]
    print("| rule | abstained (held out) | answered (held out) | per-fold abstained | per-fold answered "
          "| dev abstained | dev answered |")
    print("|---|---|---|---|---|---|---|")
    final: dict[str, bool] = {}
    for label, judges, parts in variants:
        held_out, _ = cross_validate(calib, judges, parts)
        decisions = [held_out[c.qid] for c in calib]
        abstained, answered = rates(calib, decisions)
        folds = [rates([c for c in calib if c.fold == f], [held_out[c.qid] for c in calib if c.fold == f])
                 for f in range(FOLDS)]
        on_all = fit(calib, judges, parts)
        dev_rates = rates(dev, [answers(c, on_all) for c in dev]) if dev else (math.nan, math.nan)
        print(f"| {label} | {abstained:.3f} | {answered:.3f} | "
              f"{' '.join(f'{a:.2f}' for a, _ in folds)} | {' '.join(f'{b:.2f}' for _, b in folds)} | "
              f"{dev_rates[0]:.3f} | {dev_rates[1]:.3f} |")
        if (judges, parts) == (RULE.judges, RULE.parts):
            final = held_out
    print()
    print("held out, with the parts and judges of RULE, by kind:")
    kinds = sorted({c.kind for c in calib})
    for kind in kinds:
        group = [c for c in calib if c.kind == kind]
        share = sum(final[c.qid] for c in group) / len(group)
        print(f"- {kind}: {len(group)} questions, held-out share answered {share:.3f}")
    rule = fit(calib, RULE.judges, RULE.parts)
    slope, middle = calibrate([c for c in calib if answers(c, rule)], rule)
    rule = replace(rule, slope=slope, middle=middle)
    print(f"\nfitted on all five folds: {rule}")
    if dev:
        abstained, answered = rates(dev, [answers(c, rule) for c in dev])
        print(f"dev (never fitted on), with that rule: abstained {abstained:.3f}, answered {answered:.3f}")
    # Calibration, held out: fit the logistic on four folds' answers, read the fifth's.
    rows: list[tuple[float, Case]] = []
    for fold in range(FOLDS):
        train = [c for c in calib if c.fold != fold]
        fold_rule = fit(train, RULE.judges, RULE.parts)
        s, m = calibrate([c for c in train if answers(c, fold_rule)], fold_rule)
        rows += [(1 / (1 + math.exp(-s * (held(c, fold_rule) - m))), c) for c in calib
                 if c.fold == fold and answers(c, fold_rule)]
    print("\nreliability, held-out folds (confidence of each answer given -> what it held)\n")
    print("\n".join(reliability(rows)))


def to_json(case: Case) -> dict[str, Any]:
    return asdict(case)


def from_json(row: dict[str, Any]) -> Case:
    subject = row.pop("subject")
    return Case(**row, subject=Subject(tuple(Word(**w) for w in subject["words"]), subject["blog_passages"],
                                       subject["detail_held"], subject.get("compounds_held", True),
                                       subject.get("tied", True)) if subject else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.abstain_fit", description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("var/index"))
    parser.add_argument("--features", type=Path, help="JSON file to keep the assessed questions in (reused)")
    parser.add_argument("--dev", type=Path, nargs="*", help="judged questions never fitted on: a check")
    parser.add_argument("--dev-nuggets", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.features and args.features.exists():
        rows = json.loads(args.features.read_text())
        cases = [from_json(r) for r in rows]
    else:
        lines, points = read_set(SET_DIR)
        nuggets = read_nuggets(SET_DIR / "nuggets.jsonl")
        todo = [(line.qid, line.query, line.fold, line.kind or "answerable", nuggets.get(line.qid, ()))
                for line in lines]
        dev_nuggets = read_nuggets(args.dev_nuggets) if args.dev_nuggets else {}
        for path in args.dev or ():
            todo += [(f"dev:{q.qid}", q.query, -1, "answerable" if q.relevant else "unanswerable",
                      dev_nuggets.get(q.qid, ())) for q in read_questions(path)]
        cases = assess_all(args.index, todo)
        if args.features:
            args.features.write_text(json.dumps([to_json(c) for c in cases]))
    report([c for c in cases if c.fold >= 0], [c for c in cases if c.fold < 0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
