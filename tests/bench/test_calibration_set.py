"""The calibration set's own checks (bench/calibration_set.py), on hand-made lines and on the shipped set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.calibration_set import (
    KeyPoints,
    Line,
    Outcome,
    breakdown,
    composition,
    problems,
    read_run,
    read_set,
    shared_runs,
    wrong_answers,
)

POINTS = KeyPoints("a1", ("core fact", "second fact"), (("pooling",), ("fifty",)), "Pooling keeps fifty connections.")


def answerable(qid: str = "a1", query: str = "how many connections does PHP open?", fold: int = 0) -> Line:
    return Line(qid, query, "question", fold, {"posts/x.md": 2}, None)


def unanswerable(qid: str, kind: str | None, fold: int = 0) -> Line:
    return Line(qid, "how do I tune a guitar?", "unanswerable", fold, {}, kind)


def test_a_sound_line_has_no_problems() -> None:
    assert problems([answerable(), unanswerable("u1", "off-topic")], {"a1": POINTS}) == []


def test_a_match_string_taken_from_the_question_is_a_problem() -> None:
    found = problems([answerable(query="how does connection pooling help?")], {"a1": POINTS})
    assert found == ["a1: match string 'pooling' is not lowercase or is the question's own words"]


def test_unanswerable_lines_need_a_known_kind_and_folds_stay_in_range() -> None:
    found = problems([unanswerable("u1", None), unanswerable("u2", "off-topic", fold=5)], {})
    assert found == ["u1: unanswerable without a kind of off-topic, near-miss, absent-detail",
                     "u2: fold 5 is not 0..4"]


def test_an_example_answer_over_sixty_words_and_a_missing_nugget_line_are_problems() -> None:
    long = KeyPoints("a1", POINTS.facts, POINTS.matches, "word " * 61)
    assert problems([answerable()], {"a1": long}) == ["a1: example answer has 61 words, over 60"]
    assert problems([answerable()], {}) == ["a1: no line in nuggets.jsonl"]


def test_a_twelve_word_run_shared_with_the_blog_is_found_and_an_eleven_word_one_is_not() -> None:
    blog = ["Intro. The pool keeps fifty open connections to the database for every worker process here."]
    ours = [("a1", "we know pool keeps fifty open connections to the database for every worker process"),
            ("a2", "pool keeps fifty open connections to the database for every worker")]
    assert shared_runs(ours, blog) == [
        ("a1", "pool keeps fifty open connections to the database for every worker process")]


def test_the_report_gives_abstention_per_kind_and_answers_per_fold(tmp_path: Path) -> None:
    lines = [answerable("a1", fold=0), answerable("a2", fold=1), unanswerable("u1", "near-miss", fold=1),
             unanswerable("u2", "near-miss", fold=0)]
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"details": [
        {"system": "casebook", "qid": "a1", "found": True, "answered": 1.0, "nugget_recall": 0.5, "vital": 1.0},
        {"system": "casebook", "qid": "a2", "found": False, "answered": 0.0, "nugget_recall": 0.0, "vital": 0.0},
        {"system": "casebook", "qid": "u1", "found": True, "abstain": 0.0, "answer": "Wrongly answered."},
        {"system": "casebook", "qid": "u2", "found": False, "abstain": 1.0},
        {"system": "lead-3", "qid": "u2", "found": None},
    ]}))
    outcomes = read_run(run)
    table = breakdown(lines, outcomes)
    assert (table["near-miss"]["abstain"], table["off-topic"]["n"]) == (0.5, 0)
    assert (table["fold 0"]["answered"], table["fold 1"]["answered"], table["all"]["nugget_recall"]) == (1.0, 0.0, 0.25)
    assert [line.qid for line in wrong_answers(lines, outcomes)] == ["u1"]
    assert outcomes["u1"] == Outcome("u1", True, "Wrongly answered.", {"abstain": 0.0})


def test_the_shipped_set_reads_and_has_five_balanced_folds() -> None:
    lines, points = read_set()
    assert problems(lines, points) == []
    table = composition(lines)
    for label, total in table["all"].items():
        assert all(abs(table[f"fold {f}"][label] - total / 5) <= 2 for f in range(5)), label


@pytest.mark.slow
def test_the_shipped_set_names_real_posts_and_copies_no_twelve_word_run(shared_site: Path) -> None:
    lines, points = read_set()
    assert problems(lines, points, shared_site / "content") == []
