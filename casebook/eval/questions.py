"""Judged questions: read from JSON Lines, run against a system, scored with every measure, summarised by type."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from casebook.eval.metrics import (
    Nugget,
    answer_hit,
    answer_words,
    mrr,
    ndcg,
    nugget_recall,
    recall,
    series_at_1,
    success_at_1,
    unique,
    vital,
)

Row = TypeVar("Row")  # the record one line of a JSONL file is parsed into

METRICS = ("ndcg", "recall", "mrr", "success", "series", "answer_hit", "abstain", "answered")
ANSWER_METRICS = ("nugget_recall", "vital", "answer_words")


@dataclass(frozen=True)
class Question:
    """One judged question of a JSONL file such as ../shared/eval/dev.jsonl."""

    qid: str
    query: str
    type: str  # question, keywords, paraphrase, factoid, unanswerable
    relevant: Mapping[str, int]  # content-relative post path -> grade (2 answers it, 1 partly)
    series: tuple[str, ...]  # series slugs that should come first
    answers: tuple[str, ...]  # acceptable answer strings, for factoids
    nuggets: tuple[Nugget, ...] = ()  # key points of a good answer, most important first (dev_nuggets.jsonl)


@dataclass(frozen=True)
class Outcome:
    """What a system returned for one question."""

    posts: list[str]  # content-relative post paths, best first
    series: list[str]  # series slugs, best first
    answer: str | None = None  # the /api/ask answer text; None when the system cannot answer
    found: bool | None = None  # whether the system chose to answer; None when it has no abstain rule
    latency_ms: float = 0.0
    top_score: float | None = None  # the first post's score, to see whether it could drive abstention
    ask_ms: float | None = None  # time the answer took, when the system answers
    top_passage: str | None = None  # text of the first passage, for the lead-sentences answer baseline
    confidence: float | None = None  # the answer's stated confidence, 0..1, when the system gives one


System = Callable[[str], Outcome]
# A post's path -> the path of the post it nearly copies (PostMeta.duplicate_of); any other path -> itself.
Original = Callable[[str], str]


@dataclass(frozen=True)
class Scored:
    """One question's metric values; None where a metric does not apply."""

    question: Question
    outcome: Outcome
    values: dict[str, float | None] = field(default_factory=dict)


class BadQuestions(ValueError):
    """A questions file that cannot be read or holds a line that is not a judged question."""


def read_questions(path: Path, types: Iterable[str] | None = None) -> list[Question]:
    """Read a JSONL file of judged questions, optionally keeping only some types."""
    wanted = set(types) if types else None
    return [q for q in read_jsonl(path, "judged question", _question) if not wanted or q.type in wanted]


def read_jsonl(path: Path, what: str, parse: Callable[[Any], Row]) -> list[Row]:
    """Parse every non-empty line of a JSONL file into a record.

    Any bad line fails the whole read with its path and line number (`dev.jsonl:2: not a judged
    question (missing 'qid')`): scoring the rest would print a table that looks complete and is not.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BadQuestions(f"{path}: cannot read: {e}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(parse(json.loads(line)))
        except (ValueError, TypeError, KeyError) as e:
            reason = f"missing {e}" if isinstance(e, KeyError) else str(e)
            raise BadQuestions(f"{path}:{number}: not a {what} ({reason})") from None
    return rows


def _question(row: object) -> Question:
    if not isinstance(row, dict):
        raise ValueError("a line must be a JSON object")
    relevant = row.get("relevant") or {}
    if not isinstance(relevant, dict) or not all(isinstance(g, int) for g in relevant.values()):
        raise ValueError("relevant must map post paths to grades 0, 1 or 2")
    query = row["query"]
    if not isinstance(query, str):
        raise ValueError("query must be a string")
    return Question(str(row["qid"]), query, str(row["type"]), dict(relevant),
                    tuple(row.get("series") or ()), tuple(row.get("answer") or ()))


def read_nuggets(path: Path) -> dict[str, tuple[Nugget, ...]]:
    """Nuggets by question id from a JSONL file such as ../shared/eval/dev_nuggets.jsonl; a bad line fails."""
    return dict(read_jsonl(path, "line of nuggets", _nuggets))


def _nuggets(row: Any) -> tuple[str, tuple[Nugget, ...]]:
    return str(row["qid"]), tuple(Nugget(str(n["fact"]), tuple(str(m).casefold() for m in n["match"]))
                                  for n in row["nuggets"])


def with_nuggets(questions: Sequence[Question], nuggets: Mapping[str, tuple[Nugget, ...]]) -> list[Question]:
    """The questions with their nuggets attached (questions without nuggets keep none)."""
    return [replace(q, nuggets=nuggets.get(q.qid, q.nuggets)) for q in questions]


def count_copies_once(ranked: Sequence[str], relevant: Mapping[str, int],
                      original: Original) -> tuple[list[str], dict[str, int]]:
    """Near-copies as one document: the ranking and the judgments keyed by original post.

    A group of copies earns the grade of its best copy, once; a second copy further down the list
    takes a slot and earns nothing, as any repeat would.
    """
    grades: dict[str, int] = {}
    for path, grade in relevant.items():
        grades[original(path)] = max(grades.get(original(path), 0), grade)
    seen: set[str] = set()
    keyed = []
    for path in unique(ranked):
        key = original(path)
        keyed.append(f"{path} (a second copy)" if key in seen else key)
        seen.add(key)
    return keyed, grades


def score_question(question: Question, outcome: Outcome, original: Original | None = None) -> Scored:
    """Every metric for one question's outcome; with `original`, near-copies count as one document."""
    answerable = is_answerable(question)
    found = outcome.found
    ranked, relevant = outcome.posts, question.relevant
    if original is not None:
        ranked, relevant = count_copies_once(ranked, relevant, original)
    values: dict[str, float | None] = {
        "ndcg": ndcg(ranked, relevant),
        "recall": recall(ranked, relevant),
        "mrr": mrr(ranked, relevant),
        "success": success_at_1(ranked, relevant),
        "series": series_at_1(outcome.series, question.series),
        "answer_hit": answer_hit(outcome.answer, question.answers) if question.type == "factoid" else None,
        "abstain": None if found is None or answerable else float(not found),
        "answered": None if found is None or not answerable else float(found),
    }
    if outcome.answer is not None:  # only systems that answer are scored on their answers
        given = None if found is False else outcome.answer
        values["nugget_recall"] = nugget_recall(given, question.nuggets)
        values["vital"] = vital(given, question.nuggets)
        values["answer_words"] = float(len(answer_words(given))) if given else None
    return Scored(question, outcome, values)


def run_system(system: System, questions: Sequence[Question], original: Original | None = None) -> list[Scored]:
    """Ask the system every question, timing each call when the system does not report its own latency."""
    scored = []
    for question in questions:
        started = time.perf_counter()
        outcome = system(question.query)
        if not outcome.latency_ms:
            outcome = replace(outcome, latency_ms=(time.perf_counter() - started) * 1000)
        scored.append(score_question(question, outcome, original))
    return scored


def summarise(scored: Sequence[Scored]) -> dict[str, dict[str, float | int | None]]:
    """Mean of each metric and latency p50/p95 per question type, plus an "all" row."""
    groups: dict[str, list[Scored]] = {}
    for s in scored:
        groups.setdefault(s.question.type, []).append(s)
    rows = {t: _row(groups[t]) for t in sorted(groups)}
    rows["all"] = _row(list(scored))
    rows["all"]["score_auc"] = score_auc(scored)
    rows["all"]["score_abstain"] = score_abstain(scored)
    return rows


def score_auc(scored: Sequence[Scored]) -> float | None:
    """Chance that an answerable question's top score beats an unanswerable one's (0.5 = no signal)."""
    tops = [(bool(s.question.relevant), s.outcome.top_score)
            for s in scored if s.outcome.top_score is not None]
    answerable = [t for known, t in tops if known]
    unanswerable = [t for known, t in tops if not known]
    if not answerable or not unanswerable:
        return None
    wins = sum((a > u) + 0.5 * (a == u) for a in answerable for u in unanswerable)
    return round(wins / (len(answerable) * len(unanswerable)), 4)


def score_abstain(scored: Sequence[Scored], keep: float = 0.9) -> float | None:
    """Abstention reached by the best top-score threshold that still answers `keep` of the answerable."""
    tops = [(bool(s.question.relevant), s.outcome.top_score)
            for s in scored if s.outcome.top_score is not None]
    answerable = sorted(t for known, t in tops if known)
    unanswerable = [t for known, t in tops if not known]
    if not answerable or not unanswerable:
        return None
    threshold = answerable[math.floor((1 - keep) * len(answerable))]
    return round(sum(u < threshold for u in unanswerable) / len(unanswerable), 4)


def _row(scored: Sequence[Scored]) -> dict[str, float | int | None]:
    row: dict[str, float | int | None] = {"n": len(scored)}
    for name in METRICS:
        values = [v for s in scored if (v := s.values[name]) is not None]
        row[name] = round(float(np.mean(values)), 4) if values else None
    for name in ANSWER_METRICS:
        values = [v for s in scored if (v := s.values.get(name)) is not None]
        if values:
            row[name] = round(float(np.mean(values)), 4)
    asked = [s.outcome.ask_ms for s in scored if s.outcome.ask_ms is not None]
    if asked:
        row["ask_p50_ms"] = round(float(np.percentile(asked, 50)), 1)
        row["ask_p95_ms"] = round(float(np.percentile(asked, 95)), 1)
    latencies = [s.outcome.latency_ms for s in scored]
    row["p50_ms"] = round(float(np.percentile(latencies, 50)), 1) if latencies else None
    row["p95_ms"] = round(float(np.percentile(latencies, 95)), 1) if latencies else None
    return row


CONFIDENCE_BANDS = ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0))


def reliability(scored: Sequence[Scored]) -> list[dict[str, float | int | str | None]]:
    """Per band of stated confidence: the answers given in it, the share of them that hold the question's core
    point (Vital; an answer to an unanswerable question holds none, an answerable one without key points is left
    out, so `judged` says how many answers the share is of), and the unanswerable questions answered in it (their
    share of all of them).

    A confidence means what it says when the held share sits inside its band."""
    unanswerable = sum(1 for s in scored if not is_answerable(s.question))
    rows: list[dict[str, float | int | str | None]] = []
    for low, high in CONFIDENCE_BANDS:
        band = [s for s in scored if s.outcome.found and s.outcome.confidence is not None
                and low <= s.outcome.confidence < (high if high < 1.0 else 1.01)]
        if not band:
            continue
        held = [h for s in band if (h := _held(s)) is not None]
        wrong = sum(1 for s in band if not is_answerable(s.question))
        rows.append({"band": f"{low:.1f}-{high:.1f}", "answers": len(band), "judged": len(held),
                     "vital": round(float(np.mean(held)), 3) if held else None,
                     "wrong": wrong, "wrong_share": round(wrong / unanswerable, 3) if unanswerable else None,
                     "mean": round(float(np.mean([s.outcome.confidence or 0.0 for s in band])), 3)})
    return rows


def _held(s: Scored) -> float | None:
    """Whether an answer given holds its question's core point: never for an unanswerable question."""
    return s.values.get("vital") if is_answerable(s.question) else 0.0


def is_answerable(question: Question) -> bool:
    """Whether the blog holds an answer: some post is judged relevant."""
    return any(g > 0 for g in question.relevant.values())
