"""The abstain rule's cross-validation (bench/abstain_fit.py) on hand-made questions: each fold is decided by a
rule fitted on the other four, and a part of the rule shows what it adds."""

from __future__ import annotations

from bench.abstain_fit import Case, calibrate, cross_validate, rates
from service.answers.confidence import JUDGES, RULE
from service.answers.subject import RARE, Subject, Word

BLOG = 10_000


def case(qid: str, fold: int, answerable: bool, name_held: bool, score: float = 0.6) -> Case:
    words = (Word("harbor", "harbor", True, RARE, 40, name_held, False, 0.0),
             Word("shard", "shard", False, 9000, 300, True, False, 0.0))
    return Case(qid, fold, "answerable" if answerable else "near-miss", score, True, Subject(words, BLOG),
                1.0 if answerable else 0.0, 1.0 if answerable else 0.0)


CASES = [c for fold in range(5) for c in (case(f"a{fold}", fold, True, True), case(f"u{fold}", fold, False, False))]


def test_held_out_decisions_come_from_rules_fitted_without_their_fold() -> None:
    held_out, rules = cross_validate(CASES, JUDGES, ("names",))
    assert len(rules) == 5 and set(held_out) == {c.qid for c in CASES}
    assert rates(CASES, [held_out[c.qid] for c in CASES]) == (1.0, 1.0), "a missing name tells them apart"


def test_the_evidence_score_alone_cannot_tell_questions_with_the_same_score_apart() -> None:
    held_out, _ = cross_validate(CASES, (), ())
    abstained, answered = rates(CASES, [held_out[c.qid] for c in CASES])
    assert abstained + answered == 1.0


def test_calibration_puts_the_middle_between_wrong_and_right_answers() -> None:
    answers = [case(f"a{i}", 0, True, True, 0.7) for i in range(5)] + [case(f"u{i}", 0, False, True, 0.3)
                                                                        for i in range(5)]
    slope, middle = calibrate(answers, RULE)
    assert slope > 0 and 0.3 <= middle <= 0.7
