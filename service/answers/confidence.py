"""How sure an answer is, and the abstain rule: answer only when the evidence is strong, holds the question's own
subject, and the calibrated confidence says the answer more likely than not holds the point asked."""

from __future__ import annotations

import math
from dataclasses import dataclass

from index.text import idf
from service.answers.compose import coverage
from service.answers.subject import Subject, Word
from service.search.live import Live
from service.search.query import Query
from service.search.ranking import ScoredPassage

CONFIDENCE_PASSAGES = 5
JUDGES = ("word", "post", "model")  # how a specific word may be found in the cited passages (see subject.py)
# The parts of the subject test: every name held; more than one shared ordinary word when no specific one is;
# the evidence score scaled by the share of the specific words' weight held; the attribute asked said; the value
# asked stated beside it (service/answers/attribute.py); a name of several words written as one in a cited post.
PARTS = ("names", "ordinary", "share", "detail", "tied", "compounds")


@dataclass(frozen=True)
class Rule:
    """The abstain rule's constants: every one fitted by 5-fold cross-validation on bench/calibration/."""

    abstain_below: float  # support (`support`: evidence score x share of the subject found) below which no answer
    rare_share: float  # a word used by at most this share of the blog's passages makes the question specific
    rare_rank: int  # ... and so does a word past this token id in the model's vocabulary (rare in English)
    model_close: float  # cosine at which the model judges a word close to a cited passage
    slope: float  # calibration: confidence = 1 / (1 + exp(-slope * (score - middle)))
    middle: float
    judges: tuple[str, ...] = JUDGES
    parts: tuple[str, ...] = PARTS


# bench/QUALITY.md, "Answers readers can trust" (`python -m bench.abstain_fit --index /work/real-index`): fitted on
# all five folds of bench/calibration/ (403 questions) after the held-out folds were reported (abstained 0.952,
# answered 0.954 held out). The model judge is left out: it changed no held-out decision for the better.
RULE = Rule(abstain_below=0.16, rare_share=0.01, rare_rank=12000, model_close=1.0, slope=2.0, middle=0.35,
            judges=("word", "post"))


def evidence_score(live: Live, weights: dict[str, float], evidence: list[ScoredPassage],
                   contexts: dict[int, frozenset[str]]) -> float:
    """How strong the evidence is, 0..1: the best passages' meaning match and how much of the question they cover
    (with their post title and heading), cut steeply when the question uses words no passage holds."""
    top = evidence[:CONFIDENCE_PASSAGES]
    if not top:
        return 0.0
    cosine = max(s.dense for s in top)
    covered = max(coverage(weights, contexts[s.passage.id]) for s in top)
    return max(0.0, min(1.0, (0.5 * cosine + 0.5 * covered) * (1.0 - unseen_share(live, weights)) ** 2))


def calibrated(score: float, rule: Rule = RULE) -> float:
    """The confidence a reader sees: the share of answers given at this evidence score that held the question's
    core point on the calibration set (a logistic fit; `casebook eval` prints the reliability table)."""
    return 1.0 / (1.0 + math.exp(-rule.slope * (score - rule.middle)))


def found(word: Word, rule: Rule = RULE) -> bool:
    """Whether a judge of the rule finds the word in the cited passages."""
    return ((word.literal and "word" in rule.judges) or (word.in_post and "post" in rule.judges)
            or (word.closeness >= rule.model_close and "model" in rule.judges))


def support(score: float, subject: Subject, rule: Rule = RULE) -> float:
    """What the abstain threshold reads: the evidence score, scaled by the share of the question's specific words
    (by weight) that the cited passages hold; 0 when the answer does not say the attribute asked ("fee"), the
    cited passages lack a name the question uses ("Deliveroo", "2021", "S3"), or they share a single ordinary word
    with the question and no specific one, or no sentence states the value asked beside what it is of ("1 million
    new users" for "how many user accounts"), or no cited post writes a name of several words the question uses
    ("Pydantic AI", where the blog writes "Pydantic" and "AI" apart)."""
    if "detail" in rule.parts and not subject.detail_held:
        return 0.0
    if "tied" in rule.parts and not subject.tied:
        return 0.0
    if "compounds" in rule.parts and not subject.compounds_held:
        return 0.0
    specific = specific_words(subject, rule)
    if "names" in rule.parts and any(w.name and not found(w, rule) for w in specific):
        return 0.0
    shared = [w for w in subject.words if w.literal]
    if "ordinary" in rule.parts and not any(w.literal for w in specific) and len(shared) < 2:
        return 0.0
    return score * (1.0 - missing_share(subject, rule)) if "share" in rule.parts else score


def specific_words(subject: Subject, rule: Rule = RULE) -> list[Word]:
    """The question's words that make it specific (see `Word.specific`)."""
    return [w for w in subject.words if w.specific(rule.rare_share * subject.blog_passages, rule.rare_rank)]


def missing_share(subject: Subject, rule: Rule = RULE) -> float:
    """Share of the specific words' weight (their IDF in the blog) that no judge finds in the cited passages.

    A word the blog never uses is left out unless it is a name: the evidence score already falls for it
    (`unseen_share`), and a paraphrase's own words ("overwhelming") would otherwise outweigh all the rest."""
    counted = [w for w in specific_words(subject, rule) if w.passages > 0 or w.name]
    weight = {w.stem: idf(subject.blog_passages, w.passages) for w in counted}
    total = sum(weight.values())
    missing = sum(weight[w.stem] for w in counted if not found(w, rule))
    return missing / total if total > 0 else 0.0


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
