"""Retrieval metrics on hand-made rankings, and `casebook eval` over the fixture index."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from casebook.cli import main
from casebook.eval.metrics import (
    Nugget,
    answer_hit,
    answer_words,
    lead_sentences,
    mrr,
    ndcg,
    nugget_recall,
    recall,
    series_at_1,
    success_at_1,
    vital,
)
from casebook.eval.questions import (
    BadQuestions,
    Outcome,
    Question,
    count_copies_once,
    read_nuggets,
    reliability,
    score_abstain,
    score_auc,
    score_question,
    summarise,
    with_nuggets,
)
from tests.helpers import FIXTURES

QUESTIONS = FIXTURES / "eval-questions.jsonl"
NUGGETS_FILE = FIXTURES / "eval-nuggets.jsonl"
JUDGED = {"a": 2, "b": 1, "c": 1}


def test_ndcg_of_a_perfect_ranking_is_one() -> None:
    assert ndcg(["a", "b", "c", "x"], JUDGED) == 1.0


def test_ndcg_of_an_imperfect_ranking_matches_the_hand_computed_value() -> None:
    # DCG = 1/log2(2) + 2/log2(3) + 0 ; IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3) + 0.5)
    assert ndcg(["b", "a", "x"], JUDGED) == pytest.approx(expected)
    assert ndcg(["b", "a", "x"], JUDGED) == pytest.approx(0.7224, abs=1e-4)


def test_ndcg_counts_only_the_top_ten_and_a_repeated_post_once() -> None:
    assert ndcg([f"x{i}" for i in range(10)] + ["a"], JUDGED) == 0.0
    assert ndcg(["a", "a", "b", "c"], JUDGED) == 1.0


def test_recall_and_mrr_count_any_grade() -> None:
    assert recall(["x", "b", "a"], JUDGED) == pytest.approx(2 / 3)
    assert mrr(["x", "y", "b"], JUDGED) == pytest.approx(1 / 3)
    assert mrr(["x"], JUDGED) == 0.0


def test_success_at_1_needs_a_grade_2_post_first() -> None:
    assert success_at_1(["a", "x"], JUDGED) == 1.0
    assert success_at_1(["b", "a"], JUDGED) == 0.0
    assert success_at_1([], JUDGED) == 0.0


def test_series_and_answer_apply_only_when_judged() -> None:
    assert series_at_1(["s1", "s2"], ["s2"]) == 0.0
    assert series_at_1(["s2"], ["s1", "s2"]) == 1.0
    assert series_at_1(["s1"], []) is None
    assert answer_hit("It costs $73/month.", ["$73"]) == 1.0
    assert answer_hit("no idea", ["$73"]) == 0.0
    assert answer_hit(None, ["$73"]) is None


COPIES = {"research/a.md": "posts/a.md"}  # research/a.md nearly copies posts/a.md


def _original(path: str) -> str:
    return COPIES.get(path, path)


def test_near_copies_are_one_document_graded_by_the_best_copy() -> None:
    ranked, grades = count_copies_once(["research/a.md", "b.md"], {"posts/a.md": 1, "research/a.md": 2, "b.md": 1},
                                       _original)
    assert grades == {"posts/a.md": 2, "b.md": 1}
    assert ranked == ["posts/a.md", "b.md"]


def test_a_second_copy_in_a_result_list_is_a_wasted_slot() -> None:
    question = Question("q", "q", "question", {"posts/a.md": 2, "research/a.md": 2, "b.md": 1}, (), ())
    both_copies = Outcome(["posts/a.md", "research/a.md", "b.md"], [])
    one_copy = Outcome(["posts/a.md", "b.md"], [])
    # Counted once, the ideal list is [a, b]: one copy then b is perfect, both copies push b down a slot.
    assert score_question(question, one_copy, _original).values["ndcg"] == 1.0
    wasted = score_question(question, both_copies, _original).values
    assert wasted["ndcg"] == pytest.approx((2 + 1 / math.log2(4)) / (2 + 1 / math.log2(3)))
    assert wasted["recall"] == 1.0 and wasted["success"] == 1.0
    # Counted apart, listing both copies looked better than listing one.
    apart = score_question(question, both_copies).values["ndcg"]
    assert apart is not None and apart > score_question(question, one_copy).values["ndcg"]


def test_a_question_judging_both_copies_can_reach_its_ideal() -> None:
    question = Question("q", "q", "question", {"posts/a.md": 2, "research/a.md": 2}, (), ())
    assert score_question(question, Outcome(["research/a.md"], []), _original).values["ndcg"] == 1.0
    assert score_question(question, Outcome(["research/a.md"], [])).values["ndcg"] < 1.0


NUGGETS = (Nugget("the cell is chosen by user id", ("rzone", "user id")),
           Nugget("storage is replicated with paxos", ("paxos",)),
           Nugget("the peak was 544,000 tps", ("544,000",)))


def test_nugget_recall_counts_the_share_of_key_points_present_case_insensitively() -> None:
    answer = "Requests are routed to an RZone cell by user ID [1]. Writes go through Paxos [2]."
    assert nugget_recall(answer, NUGGETS) == pytest.approx(2 / 3)
    assert vital(answer, NUGGETS) == 1.0
    assert vital("Writes go through Paxos.", NUGGETS) == 0.0


def test_only_the_first_hundred_words_count_and_citation_markers_are_not_words() -> None:
    padding = " ".join(["word"] * 99)
    assert nugget_recall(f"{padding} [1] [2] [3] paxos", NUGGETS) == pytest.approx(1 / 3)
    assert nugget_recall(f"{padding} filler paxos", NUGGETS) == 0.0
    assert answer_words("One fact [1]. Two facts [2].") == ["One", "fact.", "Two", "facts."]


def test_an_abstention_scores_zero_and_questions_without_nuggets_are_not_scored() -> None:
    assert nugget_recall(None, NUGGETS) == 0.0
    assert vital(None, NUGGETS) == 0.0
    assert nugget_recall("anything", ()) is None
    question = Question("q1", "how does it scale?", "question", JUDGED, (), (), NUGGETS)
    abstained = score_question(question, Outcome(["a"], [], "paxos", found=False)).values
    assert (abstained["nugget_recall"], abstained["vital"], abstained["answer_words"]) == (0.0, 0.0, None)
    answered = score_question(question, Outcome(["a"], [], "Paxos keeps 544,000 TPS safe [1].", found=True)).values
    assert (answered["nugget_recall"], answered["vital"], answered["answer_words"]) == (pytest.approx(2 / 3), 0.0, 5.0)
    search_only = score_question(question, Outcome(["a"], [])).values
    assert "nugget_recall" not in search_only


def test_lead_sentences_are_the_first_sentences_of_the_top_passage() -> None:
    assert lead_sentences("One. Two. Three. Four.") == "One. Two. Three."
    assert lead_sentences(None) is None


def test_nuggets_are_read_by_question_id_and_a_bad_line_names_its_place(tmp_path: Path) -> None:
    path = tmp_path / "nuggets.jsonl"
    path.write_text('{"qid": "q1", "nuggets": [{"fact": "F", "match": ["RZone", "user id"]}]}\n\n', encoding="utf-8")
    nuggets = read_nuggets(path)
    assert nuggets == {"q1": (Nugget("F", ("rzone", "user id")),)}
    questions = with_nuggets([Question("q1", "q", "question", JUDGED, (), ()),
                              Question("q2", "q", "question", JUDGED, (), ())], nuggets)
    assert [q.nuggets for q in questions] == [nuggets["q1"], ()]
    path.write_text('{"qid": "q1"}\n', encoding="utf-8")
    with pytest.raises(BadQuestions, match=r"nuggets.jsonl:1: not a line of nuggets \(missing 'nuggets'\)"):
        read_nuggets(path)


def test_ranking_metrics_do_not_apply_to_unanswerable_questions() -> None:
    assert ndcg(["a"], {}) is None
    assert recall(["a"], {}) is None
    assert mrr(["a"], {}) is None
    assert success_at_1(["a"], {}) is None


def test_abstention_is_scored_on_unanswerable_and_answering_on_the_rest() -> None:
    unanswerable = Question("u", "q", "unanswerable", {}, (), ())
    answerable = Question("a", "q", "question", JUDGED, (), ())
    assert score_question(unanswerable, Outcome(["a"], [], "", found=False)).values["abstain"] == 1.0
    assert score_question(answerable, Outcome(["a"], [], "x", found=True)).values["answered"] == 1.0
    assert score_question(answerable, Outcome(["a"], [])).values["answered"] is None


def test_top_score_separation_of_answerable_from_unanswerable() -> None:
    answerable = Question("a", "q", "question", JUDGED, (), ())
    unanswerable = Question("u", "q", "unanswerable", {}, (), ())
    scored = [score_question(answerable, Outcome(["a"], [], top_score=t)) for t in (0.9, 0.8, 0.3)]
    scored += [score_question(unanswerable, Outcome([], [], top_score=t)) for t in (0.5, 0.1)]
    assert score_auc(scored) == round(5 / 6, 4)
    assert score_abstain(scored, keep=0.6) == 1.0  # threshold 0.8: both unanswerable fall below
    assert score_abstain(scored, keep=1.0) == 0.5  # threshold 0.3: only 0.1 falls below


def test_summary_has_a_row_per_type_and_an_all_row() -> None:
    questions = [Question("1", "q", "keywords", JUDGED, (), ()),
                 Question("2", "q", "question", JUDGED, (), ())]
    scored = [score_question(questions[0], Outcome(["a"], [], latency_ms=10.0)),
              score_question(questions[1], Outcome(["x"], [], latency_ms=30.0))]
    rows = summarise(scored)
    assert set(rows) == {"keywords", "question", "all"}
    assert rows["all"]["success"] == 0.5
    assert rows["all"]["p50_ms"] == 20.0


def test_eval_over_the_fixture_index_prints_json_with_every_metric(
    index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--queries", str(QUESTIONS), "--index", str(index_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["questions"] == 3
    table = result["systems"]["casebook"]
    assert set(table) == {"question", "keywords", "unanswerable", "all"}
    assert {"n", "ndcg", "recall", "mrr", "success", "series", "answer_hit", "abstain", "answered",
            "p50_ms", "p95_ms"} <= set(table["all"])
    assert table["keywords"]["success"] == 1.0
    assert len(result["details"]) == 3


def test_eval_with_nuggets_scores_answers_beside_the_lead_sentences_baseline(
    index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "--queries", str(QUESTIONS), "--index", str(index_dir), "--nuggets", str(NUGGETS_FILE)]
    assert main([*args, "--json"]) == 0
    systems = json.loads(capsys.readouterr().out)["systems"]
    assert set(systems) == {"casebook", "lead-3"}
    for name in ("casebook", "lead-3"):
        question = systems[name]["question"]
        assert 0.0 <= question["nugget_recall"] <= 1.0 and question["vital"] in (0.0, 1.0)
        assert question["answer_words"] > 0
    assert systems["casebook"]["all"]["ask_p50_ms"] > 0
    assert main(args) == 0
    out = capsys.readouterr().out
    answers = out[out.index("Answers ("):out.index("Reliability (")].strip().splitlines()
    assert "NuggetRecall" in answers[2] and "ask p50 ms" in answers[2]
    assert [line.split("|")[1].strip() for line in answers[4:]] == ["casebook"] * 4 + ["lead-3"] * 4
    reliability = out[out.index("Reliability ("):].strip().splitlines()
    assert "core point held" in reliability[2] and "unanswerable answered" in reliability[2]


def test_reliability_table_says_what_answers_at_each_confidence_held() -> None:
    nugget = (Nugget("core", ("ledger",)),)
    answerable = Question("a", "q", "question", JUDGED, (), (), nugget)
    unanswerable = Question("u", "q", "unanswerable", {}, (), ())
    scored = [score_question(answerable, Outcome(["a"], [], "the ledger", found=True, confidence=0.75)),
              score_question(answerable, Outcome(["a"], [], "nothing", found=True, confidence=0.72)),
              score_question(unanswerable, Outcome([], [], "wrong", found=True, confidence=0.55)),
              score_question(unanswerable, Outcome([], [], "", found=False, confidence=0.2))]
    rows = reliability(scored)
    assert rows == [
        {"band": "0.5-0.6", "answers": 1, "judged": 1, "vital": 0.0, "wrong": 1, "wrong_share": 0.5, "mean": 0.55},
        {"band": "0.7-0.8", "answers": 2, "judged": 2, "vital": 0.5, "wrong": 0, "wrong_share": 0.0, "mean": 0.735},
    ]


def test_reliability_share_is_of_the_answers_judged_not_of_all_answers_given() -> None:
    nugget = (Nugget("core", ("ledger",)),)
    judged = Question("a", "q", "question", JUDGED, (), (), nugget)
    unjudged = Question("k", "q", "keywords", JUDGED, (), ())  # no key points: says nothing of the core point
    scored = [score_question(judged, Outcome(["a"], [], "the ledger", found=True, confidence=0.75)),
              *(score_question(unjudged, Outcome(["a"], [], "anything", found=True, confidence=0.72))
                for _ in range(4))]
    assert reliability(scored) == [
        {"band": "0.7-0.8", "answers": 5, "judged": 1, "vital": 1.0, "wrong": 0, "wrong_share": None, "mean": 0.726},
    ]


def test_eval_over_http_ranks_like_in_process(live_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--queries", str(QUESTIONS), "--url", live_server, "--json"]) == 0
    table = json.loads(capsys.readouterr().out)["systems"]["casebook"]
    assert table["keywords"]["success"] == 1.0
    assert table["question"]["series"] == 1.0
    assert "abstain" in table["unanswerable"]  # a number once /api/ask is served, n/a (None) before


def test_near_copy_groups_come_from_the_index_in_process_and_over_http(index_dir: Path, live_server: str) -> None:
    from casebook.eval.systems import http_originals, index_originals

    for original in (index_originals(index_dir), http_originals(live_server)):
        assert original("posts/caching-redis-copy.md") == "posts/caching-redis.md"
        assert original("posts/caching-redis.md") == "posts/caching-redis.md"
        assert original("posts/no-such-post.md") == "posts/no-such-post.md"


def test_eval_of_several_question_files_reports_them_side_by_side(
    index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typos = tmp_path / "typos.jsonl"
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    typo = {"f1": "how does a retried paymnet avoid being posted twice?", "f2": "horizontal pod autoscaller"}
    typos.write_text("".join(json.dumps({**r, "query": typo[r["qid"]], "original": r["query"]}) + "\n"
                             for r in rows if r["qid"] in typo), encoding="utf-8")
    assert main(["eval", "--queries", str(QUESTIONS), str(typos), "--index", str(index_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["queries"] for r in result["runs"]] == [str(QUESTIONS), str(typos)]
    keywords = result["side_by_side"]["casebook"]["keywords"]
    assert keywords[str(QUESTIONS)]["ndcg"] == keywords[str(typos)]["ndcg"] == 1.0  # the typo is corrected
    assert main(["eval", "--queries", str(QUESTIONS), str(typos), "--index", str(index_dir)]) == 0
    text = capsys.readouterr().out
    assert "side by side" in text and "nDCG@10 typos" in text and "nDCG typos/eval-questions" in text


def test_eval_prints_a_table_row_per_type_kept(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--queries", str(QUESTIONS), "--index", str(index_dir), "--types", "keywords"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "nDCG@10" in lines[0] and "p95 ms" in lines[0]
    table = lines[:lines.index("")]  # the reliability table follows
    assert [line.split("|")[2].strip() for line in table[2:]] == ["keywords", "all"]


@pytest.mark.parametrize(("lines", "message"), [
    ('{"qid": "a", "query": "x", "type": "question"}\nnot json\n', ":2: not a judged question"),
    ('{"query": "x", "type": "question"}\n', ":1: not a judged question (missing 'qid')"),
    ('{"qid": "a", "query": "x", "type": "question", "relevant": {"p.md": "two"}}\n', ":1: not a judged question"),
    ("[1, 2]\n", ":1: not a judged question (a line must be a JSON object)"),
])
def test_a_bad_questions_file_is_refused_with_its_path_and_line(
    tmp_path: Path, index_dir: Path, lines: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text(lines, encoding="utf-8")
    assert main(["eval", "--queries", str(questions), "--index", str(index_dir)]) == 2
    assert f"casebook eval: {questions}{message}" in capsys.readouterr().err


def test_a_missing_questions_file_or_site_is_a_message_not_a_traceback(
    tmp_path: Path, index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--queries", str(tmp_path / "none.jsonl"), "--index", str(index_dir)]) == 2
    assert "none.jsonl: cannot read" in capsys.readouterr().err
    assert main(["eval", "--queries", str(QUESTIONS), "--index", str(index_dir), "--baselines",
                 "--site", str(tmp_path)]) == 2
    assert "has no content/ folder" in capsys.readouterr().err
    (tmp_path / "content").mkdir()
    assert main(["eval", "--queries", str(QUESTIONS), "--index", str(index_dir), "--baselines",
                 "--site", str(tmp_path)]) == 2
    assert "no published posts under" in capsys.readouterr().err
