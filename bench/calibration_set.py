"""The calibration set in bench/calibration/: check its lines, and read a `casebook eval --json` run per fold and kind.

Not a section of `python -m bench`:
    python -m bench.calibration_set check --site ../shared/site
    python -m bench.calibration_set report EVAL.json [--misses --index /work/real-index]

`check` fails (exit 1) on any line that is not what `casebook eval` and the cross-validation expect, and on any
12-word run that an example answer, fact or question shares with the blog (everything here is our own words).
`report` prints, overall, per fold and per unanswerable kind: the share of unanswerable questions abstained on,
the share of answerable ones answered, NuggetRecall, Vital and AnswerHit. With `--misses` it asks each wrongly
answered unanswerable question again, in process, to show the answer's first words and the query words its
passages matched (the `why` of `casebook ask --json`).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casebook.eval.questions import BadQuestions, read_jsonl
from casebook.eval.tables import grid

SET_DIR = Path(__file__).parent / "calibration"
FOLDS = 5
KINDS = ("off-topic", "near-miss", "absent-detail")
ANSWERABLE = ("question", "paraphrase", "keywords")
RUN = 12  # words; no run this long may match the blog
ANSWER_WORDS = 60
SHOWN_WORDS = 30  # of a wrong answer, in the misses list (--words); 8 keeps a quote clear of the 12-word rule


@dataclass(frozen=True)
class Line:
    """One line of questions.jsonl: a judged question with its fold, and its kind when unanswerable."""

    qid: str
    query: str
    type: str
    fold: int
    relevant: Mapping[str, int]
    kind: str | None  # off-topic, near-miss or absent-detail; None for answerable lines


@dataclass(frozen=True)
class KeyPoints:
    """One line of nuggets.jsonl, as written: facts with their match strings, and the example answer."""

    qid: str
    facts: tuple[str, ...]
    matches: tuple[tuple[str, ...], ...]
    answer: str


def _line(row: Any) -> Line:
    kind = row.get("kind")
    return Line(str(row["qid"]), str(row["query"]), str(row["type"]), int(row["fold"]),
                dict(row.get("relevant") or {}), str(kind) if kind is not None else None)


def _key_points(row: Any) -> KeyPoints:
    nuggets = row["nuggets"]
    return KeyPoints(str(row["qid"]), tuple(str(n["fact"]) for n in nuggets),
                     tuple(tuple(str(m) for m in n["match"]) for n in nuggets), str(row["answer"]))


def read_set(folder: Path = SET_DIR) -> tuple[list[Line], dict[str, KeyPoints]]:
    """The questions and their key points; BadQuestions names the file and line of a broken one."""
    lines = read_jsonl(folder / "questions.jsonl", "calibration question", _line)
    points = read_jsonl(folder / "nuggets.jsonl", "line of nuggets", _key_points)
    return lines, {p.qid: p for p in points}


def problems(lines: Sequence[Line], points: Mapping[str, KeyPoints], content: Path | None = None) -> list[str]:
    """Everything wrong with the set, one message per problem (empty when the set is sound)."""
    found: list[str] = []
    for qid, n in Counter(line.qid for line in lines).items():
        if n > 1:
            found.append(f"{qid}: used by {n} lines")
    for line in lines:
        found += _line_problems(line, points.get(line.qid), content)
    if content is not None:
        texts = [(line.qid, line.query) for line in lines]
        texts += [(p.qid, text) for p in points.values() for text in (p.answer, *p.facts)]
        found += [f"{qid}: shares a {RUN}-word run with the blog: {run!r}"
                  for qid, run in shared_runs(texts, content_texts(content))]
    return found


def _line_problems(line: Line, points: KeyPoints | None, content: Path | None) -> list[str]:
    found = []
    if not 0 <= line.fold < FOLDS:
        found.append(f"{line.qid}: fold {line.fold} is not 0..{FOLDS - 1}")
    if line.type == "unanswerable":
        if line.kind not in KINDS:
            found.append(f"{line.qid}: unanswerable without a kind of {', '.join(KINDS)}")
        if line.relevant:
            found.append(f"{line.qid}: unanswerable but names relevant posts")
        return found
    if line.type not in ANSWERABLE:
        return [*found, f"{line.qid}: type {line.type!r} is not one of {', '.join(ANSWERABLE)} or unanswerable"]
    if 2 not in line.relevant.values():
        found.append(f"{line.qid}: no post graded 2")
    if content is not None:
        found += [f"{line.qid}: {path} is not under {content}" for path in line.relevant
                  if not (content / path).is_file()]
    if points is None:
        return [*found, f"{line.qid}: no line in nuggets.jsonl"]
    if not 2 <= len(points.facts) <= 4:
        found.append(f"{line.qid}: {len(points.facts)} nuggets, not 2 to 4")
    query = line.query.casefold()
    for match in (m for ms in points.matches for m in ms):
        if match != match.casefold() or match in query:
            found.append(f"{line.qid}: match string {match!r} is not lowercase or is the question's own words")
    if len(points.answer.split()) > ANSWER_WORDS:
        found.append(f"{line.qid}: example answer has {len(points.answer.split())} words, over {ANSWER_WORDS}")
    return found


def words(text: str) -> list[str]:
    """Lowercase word tokens; punctuation and Markdown marks do not count."""
    return re.findall(r"\w+", text.casefold())


def runs(tokens: Sequence[str], size: int = RUN) -> Iterator[tuple[str, ...]]:
    """Every run of `size` consecutive tokens."""
    return (tuple(tokens[i:i + size]) for i in range(len(tokens) - size + 1))


def content_texts(content: Path) -> Iterator[str]:
    """The text of every Markdown file of a Hugo content folder."""
    return (path.read_text(encoding="utf-8") for path in sorted(content.rglob("*.md")))


def shared_runs(texts: Iterable[tuple[str, str]], blog: Iterable[str], size: int = RUN) -> list[tuple[str, str]]:
    """(id, run) for each `size`-word run of our texts that also occurs in the blog."""
    seen = {run for text in blog for run in runs(words(text), size)}
    return [(key, " ".join(run)) for key, text in texts for run in runs(words(text), size) if run in seen]


def composition(lines: Sequence[Line]) -> dict[str, Counter[str]]:
    """Per fold (and "all"), how many lines of each answerable type and unanswerable kind."""
    table: dict[str, Counter[str]] = {}
    for line in lines:
        label = line.kind or line.type
        for key in (f"fold {line.fold}", "all"):
            table.setdefault(key, Counter())[label] += 1
    return dict(sorted(table.items()))


@dataclass(frozen=True)
class Outcome:
    """One question's result in a `casebook eval --json` run, read from its details."""

    qid: str
    found: bool | None
    answer: str | None
    values: Mapping[str, float]


def read_run(path: Path, system: str = "casebook") -> dict[str, Outcome]:
    """The per-question outcomes of one system in a `casebook eval --json` file (one questions file)."""
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BadQuestions(f"{path}: cannot read a casebook eval --json run: {e}") from None
    if "details" not in run:
        raise BadQuestions(f"{path}: no 'details'; run casebook eval with one --queries file and --json")
    return {row["qid"]: Outcome(row["qid"], row.get("found"), row.get("answer"),
                                {k: float(v) for k, v in row.items() if k in METRICS and v is not None})
            for row in run["details"] if row["system"] == system}


METRICS = ("abstain", "answered", "nugget_recall", "vital", "answer_hit")
COLUMNS = (("abstain", "Abstained"), ("answered", "Answered"), ("nugget_recall", "NuggetRecall"),
           ("vital", "Vital"), ("answer_hit", "AnswerHit"))


def summary(lines: Iterable[Line], outcomes: Mapping[str, Outcome]) -> dict[str, float | int | None]:
    """Mean of each metric over the lines that have it (None where none does), and the line count."""
    chosen = [outcomes[line.qid] for line in lines if line.qid in outcomes]
    row: dict[str, float | int | None] = {"n": len(chosen)}
    for key in METRICS:
        values = [o.values[key] for o in chosen if key in o.values]
        row[key] = round(statistics.fmean(values), 3) if values else None
    return row


def breakdown(lines: Sequence[Line], outcomes: Mapping[str, Outcome]) -> dict[str, dict[str, float | int | None]]:
    """Rows of the report: all lines, each fold, each unanswerable kind, the answerable lines."""
    groups: dict[str, list[Line]] = {"all": list(lines)}
    for fold in range(FOLDS):
        groups[f"fold {fold}"] = [line for line in lines if line.fold == fold]
    for kind in KINDS:
        groups[kind] = [line for line in lines if line.kind == kind]
    groups["answerable"] = [line for line in lines if line.kind is None]
    return {name: summary(group, outcomes) for name, group in groups.items()}


def render(table: Mapping[str, Mapping[str, float | int | None]]) -> str:
    """A Markdown table, one row per group."""
    head = ["group", "n", *(label for _, label in COLUMNS)]
    rows = [[name, str(row["n"]), *("n/a" if row[key] is None else f"{row[key]:.3f}" for key, _ in COLUMNS)]
            for name, row in table.items()]
    return grid(head, rows)


def wrong_answers(lines: Sequence[Line], outcomes: Mapping[str, Outcome]) -> list[Line]:
    """The unanswerable lines the run answered, by kind then qid."""
    wrong = [line for line in lines if line.kind and outcomes.get(line.qid, Outcome("", None, None, {})).found]
    return sorted(wrong, key=lambda line: (KINDS.index(line.kind or KINDS[0]), line.qid))


def explain(lines: Sequence[Line], index: Path, shown: int = SHOWN_WORDS) -> list[dict[str, Any]]:
    """Ask each question again in process: the answer, its confidence, and the query words its passages matched."""
    from index.settings import SharedSettings
    from service.answers.answer import run_ask
    from service.search.holder import open_live
    from service.search.live import Filters

    live = open_live(SharedSettings.from_env(index_dir=index))
    out = []
    for line in lines:
        asked = run_ask(live, line.query, Filters(), 5)
        cited = {c.url for c in asked.citations}
        passages = [p for p in asked.passages if p.url in cited] or asked.passages
        matched = sorted({word for p in passages for word in p.why.matched})
        out.append({"qid": line.qid, "kind": line.kind, "query": line.query, "found": asked.found,
                    "confidence": asked.confidence, "corrected_query": asked.corrected_query,
                    "answer": " ".join((asked.answer or "").split()[:shown]), "matched": matched,
                    "cited": sorted({c.path for c in asked.citations})})
    return out


def render_misses(explained: Sequence[Mapping[str, Any]]) -> str:
    """The wrongly answered unanswerable questions, grouped by kind, as Markdown."""
    out: list[str] = []
    for kind in KINDS:
        group = [e for e in explained if e["kind"] == kind]
        out.append(f"\n### {kind} ({len(group)})\n")
        for e in group:
            corrected = f" (read as: {e['corrected_query']})" if e["corrected_query"] else ""
            out.append(f"- **{e['qid']}** {e['query']}{corrected}  \n  matched: {', '.join(e['matched']) or '-'}"
                       f"; confidence {e['confidence']:.3f}; cites {', '.join(e['cited'])}  \n"
                       f"  > {e['answer']} ...")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """`check` the set, or `report` a casebook eval --json run over it."""
    parser = argparse.ArgumentParser(prog="python -m bench.calibration_set", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate the set (and the 12-word rule against --site)")
    check.add_argument("--site", type=Path, help="Hugo site root whose content/ the set must not copy")
    report = sub.add_parser("report", help="per fold and per kind: abstained, answered, NuggetRecall, Vital")
    report.add_argument("run", type=Path, help="output of casebook eval --queries questions.jsonl ... --json")
    report.add_argument("--misses", action="store_true", help="list the wrongly answered unanswerable questions")
    report.add_argument("--index", type=Path, help="index to ask the misses again (with --misses)")
    report.add_argument("--words", type=int, default=SHOWN_WORDS,
                        help=f"first words of each wrong answer shown (default {SHOWN_WORDS}; 8 in a committed file)")
    for p in (check, report):
        p.add_argument("--set", type=Path, default=SET_DIR, help="folder of questions.jsonl and nuggets.jsonl")
    args = parser.parse_args(argv)
    try:
        lines, points = read_set(args.set)
        if args.command == "check":
            content = args.site / "content" if args.site else None
            found = problems(lines, points, content)
            print("\n".join(found) if found else f"{len(lines)} lines, no problems")
            for name, counts in composition(lines).items():
                print(f"{name}: {dict(sorted(counts.items()))}")
            return 1 if found else 0
        outcomes = read_run(args.run)
    except BadQuestions as e:
        print(f"python -m bench.calibration_set: {e}", file=sys.stderr)
        return 2
    print(render(breakdown(lines, outcomes)))
    if args.misses:
        wrong = wrong_answers(lines, outcomes)
        print(f"\n{len(wrong)} unanswerable questions answered")
        if args.index:
            print(render_misses(explain(wrong, args.index, args.words)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
