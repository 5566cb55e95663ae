"""How sure an answer is, and the abstain rule: answer only when the evidence reaches the calibrated confidence."""

from __future__ import annotations

from index.text import idf
from service.answers.compose import coverage
from service.search.live import Live
from service.search.query import Query
from service.search.ranking import ScoredPassage

CONFIDENCE_PASSAGES = 5
# Calibrated on the real blog with ../shared/eval/dev.jsonl (72 answerable, 14 not), bench/unanswerable.jsonl and
# bench/unanswerable-near-misses.jsonl (40 not): with the name and answer-type rules, every threshold from 0.25 to
# 0.28 answers all 72 and abstains on 13 of 14 and 38 of 40 (bench/QUALITY.md); 0.27 sits in that plateau.
ABSTAIN_BELOW = 0.27


def confidence_of(live: Live, weights: dict[str, float], evidence: list[ScoredPassage],
                  contexts: dict[int, frozenset[str]]) -> float:
    """How sure we are, 0..1: the best passages' meaning match and how much of the question they cover
    (with their post title and heading), cut steeply when the question uses words no passage holds."""
    top = evidence[:CONFIDENCE_PASSAGES]
    if not top:
        return 0.0
    cosine = max(s.dense for s in top)
    covered = max(coverage(weights, contexts[s.passage.id]) for s in top)
    return max(0.0, min(1.0, (0.5 * cosine + 0.5 * covered) * (1.0 - unseen_share(live, weights)) ** 2))


def is_answered(confidence: float) -> bool:
    """The abstain rule: answer only when the confidence reaches the calibrated threshold."""
    return confidence >= ABSTAIN_BELOW


def term_weights(live: Live, query: Query) -> dict[str, float]:
    """IDF of each query stem over the passages, so rare names ("PayPay", "Nubank") weigh most."""
    lexical = live.version.lexical
    frequency = lexical.document_frequency(query.terms)
    return {term: idf(lexical.count, df) for term, df in frequency.items()}


def unseen_share(live: Live, weights: dict[str, float]) -> float:
    """Share of the question's term weight on words that no passage contains."""
    never = idf(live.version.lexical.count, 0)
    total = sum(weights.values())
    return sum(w for w in weights.values() if w >= never) / total if total > 0 else 0.0
