"""Results as plain-text tables: one row per system and question type (or section), a column per measure."""

from __future__ import annotations

from pathlib import Path

COLUMNS = (("ndcg", "nDCG@10"), ("recall", "R@10"), ("mrr", "MRR@10"), ("success", "S@1"),
           ("series", "Series@1"), ("answer_hit", "AnswerHit"), ("abstain", "Abstain"),
           ("answered", "Answered"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("score_auc", "ScoreAUC"),
           ("score_abstain", "ScoreAbst@90"))
ANSWER_COLUMNS = (("nugget_recall", "NuggetRecall"), ("vital", "Vital"), ("answer_hit", "AnswerHit"),
                  ("abstain", "Abstain"), ("answered", "Answered"), ("answer_words", "Words"),
                  ("ask_p50_ms", "ask p50 ms"), ("ask_p95_ms", "ask p95 ms"))
SIDE_BY_SIDE = (("ndcg", "nDCG@10"), ("success", "S@1"), ("answered", "Answered"))


def render(tables: dict[str, dict[str, dict[str, float | int | None]]],
           columns: tuple[tuple[str, str], ...] = COLUMNS) -> str:
    """A plain-text table: one row per system and question type."""
    head = ["system", "type", "n", *(label for _, label in columns)]
    rows = [[name, qtype, str(row["n"]), *(cell(key, row.get(key)) for key, _ in columns)]
            for name, table in tables.items() for qtype, row in table.items()]
    return grid(head, rows)


def render_side_by_side(table: dict[str, dict[str, dict[str, dict[str, float | int | None]]]]) -> str:
    """One row per system and type; each questions file's n and metrics next to the first file's."""
    files = list(next(iter(next(iter(table.values())).values())))
    names = [Path(f).stem for f in files]
    head = ["system", "type", *(f"{label} {n}" for n in names for label in ("n", *(lab for _, lab in SIDE_BY_SIDE)))]
    head += [f"nDCG {n}/{names[0]}" for n in names[1:]]
    rows = []
    for system, types in table.items():
        for qtype, by_file in types.items():
            row = [system, qtype]
            for f in files:
                row += [str(by_file[f]["n"] or 0), *(cell(k, by_file[f][k]) for k, _ in SIDE_BY_SIDE)]
            first = by_file[files[0]]["ndcg"]
            row += [ratio(by_file[f]["ndcg"], first) for f in files[1:]]
            rows.append(row)
    return grid(head, rows)


def ratio(value: float | int | None, base: float | int | None) -> str:
    return f"{value / base:.3f}" if value is not None and base else "n/a"


def grid(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in [head, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def cell(key: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if key.endswith("_ms") or key == "answer_words" else f"{value:.3f}"


RELIABILITY_COLUMNS = (("band", "confidence"), ("answers", "answers"), ("mean", "mean confidence"),
                       ("judged", "judged"), ("vital", "core point held"), ("wrong", "unanswerable answered"),
                       ("wrong_share", "share of unanswerable"))


def render_reliability(rows: list[dict[str, float | int | str | None]]) -> str:
    """The reliability table: one row per confidence band."""
    def text(key: str, value: float | int | str | None) -> str:
        if value is None:
            return "n/a"
        return f"{value:.3f}" if isinstance(value, float) else str(value)
    return grid([label for _, label in RELIABILITY_COLUMNS],
                [[text(key, row.get(key)) for key, _ in RELIABILITY_COLUMNS] for row in rows])
