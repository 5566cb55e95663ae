"""Answers to the blog's own FAQ questions, with the FAQ's answer held out: a low-noise check of answer picking.

Not a section of `python -m bench`: `python -m bench.heldout_answers --index var/real-index` (QUALITY.md,
"Answers, round 2"). Dev has 47 questions with key points, where one answer changing its second sentence
moves NuggetRecall by 0.005 and a near-tie between two sentences can move it by 0.01; differences below
~0.03 there are noise. This check asks several hundred questions instead: every section of the blog whose
heading is a question ("Q2: How does OceanBase handle write-heavy transactions?") gives one, its own text
being the author's answer. That passage, and any other holding its first sentence, is taken out of the
ranking before the answer is composed, so the answer has to come from the rest of the blog, as for a
reader's question. Nothing is written from the blog: the questions are read from the index at run time.

Scores, per question, over the reference answer's rare words (stems with IDF >= RARE_IDF that the question
does not use):
- **recall**: their share (IDF-weighted) that the answer uses;
- **first point**: whether the answer uses at least half of those of the reference's first sentence;
- **answered**: whether Casebook answered at all (an abstention scores 0 on both).
The lead-3 baseline (the first three sentences of the top passage left) is scored the same way. Pairs of
runs are compared question by question (`--against`): the mean difference and its standard error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from index.settings import SharedSettings
from index.text import idf, term_stems
from service.answers.answer import extract
from service.answers.sentences import answer_sentences
from service.search.holder import open_live
from service.search.live import Filters, Live
from service.search.query import read_query
from service.search.ranking import Ranking, ScoredPassage
from service.search.results import ranked

RARE_IDF = 3.0  # about the rarest two thirds of the blog's words: names, numbers, terms, not "use" or "data"
MIN_QUESTION_WORDS = 5  # "Why?" or "What is X?" headings say too little to be asked alone
K = 10
_LABEL = re.compile(r"^(?:Q\d+[:.]|\d+[.)])\s*")
_CITATION = re.compile(r"\s*\[\d+\]")


@dataclasses.dataclass(frozen=True)
class Item:
    """One held-out question: the heading as asked, the passage that answers it, and its answer sentences."""

    question: str
    passage_id: int
    reference: tuple[str, ...]


def items(live: Live, n: int, seed: int, per_post: int = 2) -> list[Item]:
    """Up to `n` question headings with at least two answer sentences, at most `per_post` from one post."""
    by_post: defaultdict[str, list[Item]] = defaultdict(list)
    version = live.version
    for passage in version.passages:
        heading = passage.heading.split(" > ")[-1].strip()
        if not heading.endswith("?") or passage.kind == "nav":
            continue
        question = _LABEL.sub("", heading).strip().strip('"“”')
        reference = tuple(s.text for s in answer_sentences(passage.text))
        first = live.version.evidence_by_post.get(passage.post_path, (None,))[0]
        if len(question.split()) >= MIN_QUESTION_WORDS and len(reference) >= 2 and first != passage.id:
            by_post[passage.post_path].append(Item(question, passage.id, reference))
    rng = random.Random(seed)
    chosen: list[Item] = []
    for _, found in sorted(by_post.items()):
        rng.shuffle(found)
        chosen += found[:per_post]
    rng.shuffle(chosen)
    return chosen[:n]


def held_out(ranking: Ranking, item: Item) -> Ranking:
    """The ranking without the answering passage and any passage that repeats its first sentence."""
    def keep(scored: ScoredPassage) -> bool:
        return scored.passage.id != item.passage_id and item.reference[0] not in scored.passage.text

    posts = [p._replace(passages=tuple(s for s in p.passages if keep(s))) for p in ranking.posts]
    return dataclasses.replace(ranking, passages=[s for s in ranking.passages if keep(s)],
                               posts=[p for p in posts if p.passages])


def rare(live: Live, text: str, question: set[str]) -> dict[str, float]:
    """The text's stems the question does not use whose IDF reaches RARE_IDF, with their IDF."""
    lexical = live.version.lexical
    stems = term_stems(text) - question
    frequency = lexical.document_frequency(stems)
    weights = {t: idf(lexical.count, frequency.get(t, 0)) for t in stems}
    return {t: w for t, w in weights.items() if w >= RARE_IDF}


def score(live: Live, item: Item, answer: str | None) -> dict[str, float]:
    """Recall of the reference's rare words and whether the first point is there; 0 and 0 for an abstention."""
    question = term_stems(item.question)
    reference = rare(live, " ".join(item.reference), question)
    first = rare(live, item.reference[0], question)
    said = term_stems(_CITATION.sub("", answer)) if answer else set()
    total = sum(reference.values())
    return {
        "recall": sum(w for t, w in reference.items() if t in said) / total if total else 0.0,
        "first_point": float(bool(first) and len(first.keys() & said) >= len(first) / 2),
        "answered": float(answer is not None),
        "words": float(len(answer.split())) if answer else 0.0,
    }


def run(live: Live, chosen: list[Item]) -> dict[str, list[dict[str, Any]]]:
    """Casebook's answer and the lead-3 baseline for each held-out question."""
    out: dict[str, list[dict[str, Any]]] = {"casebook": [], "lead-3": []}
    for item in chosen:
        ranking = held_out(ranked(live, read_query(live, item.question), Filters(), K), item)
        result = extract(live, ranking)
        text = _CITATION.sub("", result.text) if result.found and result.text else None
        out["casebook"].append({"question": item.question, "answer": result.text if result.found else None,
                                **score(live, item, text)})
        top = next((s for s in ranking.passages if s.passage.kind != "nav"), None)
        lead = " ".join(s.text for s in answer_sentences(top.passage.text)[:3]) if top else None
        out["lead-3"].append({"question": item.question, "answer": lead, **score(live, item, lead or None)})
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Means over the questions (words over the answered ones)."""
    answered = [r for r in rows if r["answered"]]
    return {"n": len(rows), **{k: round(sum(r[k] for r in rows) / len(rows), 4)
                               for k in ("recall", "first_point", "answered")},
            "words": round(sum(r["words"] for r in answered) / len(answered), 1) if answered else 0.0}


def paired(before: list[dict[str, Any]], after: list[dict[str, Any]], key: str) -> tuple[float, float]:
    """Mean per-question difference after - before, and its standard error."""
    diffs = [b[key] - a[key] for a, b in zip(before, after, strict=True)]
    mean = sum(diffs) / len(diffs)
    var = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1) if len(diffs) > 1 else 0.0
    return mean, math.sqrt(var / len(diffs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.heldout_answers", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("var/real-index"))
    parser.add_argument("-n", type=int, default=300, help="how many questions (default 300)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="write every question's answer and scores here")
    parser.add_argument("--against", type=Path, help="an earlier --json file: compare question by question")
    args = parser.parse_args(argv)
    if not args.index.exists():
        print(f"{args.index}: no index here; skipping", file=sys.stderr)
        return 0
    live = open_live(SharedSettings.from_env(index_dir=args.index))
    results = run(live, items(live, args.n, args.seed))
    print("| system | n | recall | first point | answered | words |")
    print("|---|---|---|---|---|---|")
    for system, rows in results.items():
        s = summary(rows)
        print(f"| {system} | {s['n']} | {s['recall']:.4f} | {s['first_point']:.4f} | {s['answered']:.3f} | "
              f"{s['words']} |")
    if args.against:
        before = json.loads(args.against.read_text())["casebook"]
        if [r["question"] for r in before] == [r["question"] for r in results["casebook"]]:
            for key in ("recall", "first_point"):
                mean, se = paired(before, results["casebook"], key)
                print(f"{key}: {mean:+.4f} ± {se:.4f} (after - before, standard error)")
        else:
            print(f"{args.against}: other questions; not compared", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
