"""The measures, as pure functions: ranking quality over post paths, and answer quality over nuggets."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from index.text import split_sentences

CUTOFF = 10
NUGGET_WORDS = 100  # only an answer's first 100 words count, as in the TREC RAG track's nugget scoring
_CITATION = re.compile(r"\s*\[\d+\]")  # "[1]" markers link to sources; they are not answer words


@dataclass(frozen=True)
class Nugget:
    """A key point a good answer holds: the fact, and lowercase strings of which any one shows it."""

    fact: str
    match: tuple[str, ...]


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain with linear gains: sum of gain / log2(rank + 1)."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranked: Sequence[str], relevant: Mapping[str, int], k: int = CUTOFF) -> float | None:
    """nDCG@k over graded judgments (gains 2 and 1); None when nothing is relevant."""
    ideal = dcg(sorted((g for g in relevant.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return None
    return dcg([relevant.get(p, 0) for p in unique(ranked)[:k]]) / ideal


def recall(ranked: Sequence[str], relevant: Mapping[str, int], k: int = CUTOFF) -> float | None:
    """Share of the relevant posts (any grade) found in the top k."""
    wanted = {p for p, g in relevant.items() if g > 0}
    if not wanted:
        return None
    return len(wanted.intersection(unique(ranked)[:k])) / len(wanted)


def mrr(ranked: Sequence[str], relevant: Mapping[str, int], k: int = CUTOFF) -> float | None:
    """Reciprocal rank of the first relevant post (any grade) in the top k, else 0."""
    if not any(g > 0 for g in relevant.values()):
        return None
    for i, path in enumerate(unique(ranked)[:k]):
        if relevant.get(path, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def success_at_1(ranked: Sequence[str], relevant: Mapping[str, int]) -> float | None:
    """1 when the first post answers the question (grade 2), else 0."""
    if not any(g >= 2 for g in relevant.values()):
        return None
    return 1.0 if ranked and relevant.get(ranked[0], 0) >= 2 else 0.0


def series_at_1(ranked_series: Sequence[str], expected: Sequence[str]) -> float | None:
    """1 when the top series is an expected one; None for questions that name no series."""
    if not expected:
        return None
    return 1.0 if ranked_series and ranked_series[0] in expected else 0.0


def answer_hit(answer: str | None, accepted: Sequence[str]) -> float | None:
    """1 when any accepted answer string appears in the answer (case-insensitive)."""
    if not accepted or answer is None:
        return None
    text = answer.casefold()
    return 1.0 if any(a.casefold() in text for a in accepted) else 0.0


def answer_words(answer: str, limit: int | None = None) -> list[str]:
    """The answer's words without its [n] citation markers, the first `limit` of them when given."""
    words = _CITATION.sub("", answer).split()
    return words if limit is None else words[:limit]


def nuggets_present(answer: str | None, nuggets: Sequence[Nugget]) -> list[bool]:
    """Per nugget, whether any of its match strings occurs in the answer's first 100 words (case-insensitive).

    An abstention (None) holds no nugget.
    """
    if answer is None:
        return [False] * len(nuggets)
    text = " ".join(answer_words(answer, NUGGET_WORDS)).casefold()
    return [any(m in text for m in n.match) for n in nuggets]


def nugget_recall(answer: str | None, nuggets: Sequence[Nugget]) -> float | None:
    """Share of the question's nuggets the answer holds; None for a question without nuggets."""
    if not nuggets:
        return None
    present = nuggets_present(answer, nuggets)
    return sum(present) / len(present)


def vital(answer: str | None, nuggets: Sequence[Nugget]) -> float | None:
    """1 when the answer holds the first (most important) nugget, else 0; None without nuggets."""
    if not nuggets:
        return None
    return 1.0 if nuggets_present(answer, nuggets[:1])[0] else 0.0


def lead_sentences(text: str | None, count: int = 3) -> str | None:
    """The answer baseline without answer logic: the first sentences of the top search passage."""
    if not text:
        return None
    return " ".join(split_sentences(text)[:count])


def unique(ranked: Sequence[str]) -> list[str]:
    # A post listed twice must not earn its gain twice.
    return list(dict.fromkeys(ranked))
