"""Extractive answers: the sentence of the best passages that answers the question, or an abstention."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

import numpy as np

from index.text import idf, split_sentences, term_stems
from service.catalog import Filters
from service.ranking import Ranking, ScoredPassage
from service.schemas import AnswerResponse, CitationOut
from service.search import deep_link, ranked
from service.search import to_response as search_response
from service.state import Live

SOURCE_PASSAGES = 5  # sentences come from the top passages only; deeper ones rarely hold the answer
MAX_ANSWER_CHARS = 400
MIN_WORDS = 3  # shorter lines are list stubs or headings, not answers
MAX_SENTENCES = 12  # embedding is the cost of /api/ask; 12 answered more dev factoids than 24 did
# A sentence's score: meaning (cosine to the question), the question's rare words in the sentence and in
# its section (title + heading + passage), and the passage's place in the search ranking.
W_COSINE, W_SENTENCE_TERMS, W_CONTEXT_TERMS, W_RANK = 0.5, 0.3, 0.1, 0.1
W_NUMBER = 0.1  # "how many ...?" is answered by a sentence with a number the question does not already hold
_WANTS_NUMBER = re.compile(r"\b(how (many|much|long|fast|big|large|often)|by how much|"
                           r"what (percentage|share|rate|fraction))\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Calibrated on the real blog with ../shared/eval/dev.jsonl (72 answerable, 14 unanswerable questions) and
# the 16 of bench/unanswerable.jsonl: thresholds from 0.28 to 0.32 all abstain on 28 of the 30 unanswerable
# and answer about 95% of the 72 answerable (68 at 0.30); 0.30 sits in the middle of that plateau.
ABSTAIN_BELOW = 0.30


@dataclass(frozen=True)
class Candidate:
    """One sentence of a top passage, with the signals it was scored on."""

    text: str
    source: ScoredPassage
    rank: int  # 0-based position of its passage in the ranking
    cosine: float
    sentence_terms: float  # share of the question's term weight found in the sentence
    context_terms: float  # the same share over the passage, its heading and its post title
    score: float


@dataclass(frozen=True)
class Answer:
    """An extractive answer (or an abstention) with the passages that support it."""

    found: bool
    text: str | None
    confidence: float
    cited: tuple[ScoredPassage, ...]  # answer passage first; empty when not found
    ranking: Ranking  # what the question found, shown either way
    best: Candidate | None


def run_ask(live: Live, query: str, filters: Filters, k: int, exact: bool = False) -> AnswerResponse:
    """Answer a question from the live index; a repeated question comes from the cache."""
    started = time.perf_counter()
    key = ("ask", query, filters, k, exact)
    cached = live.cache.get(key)
    if not isinstance(cached, AnswerResponse):  # None: not cached yet (an "ask" key only ever holds answers)
        cached = to_response(live, query, answer(live, query, filters, k, exact))
        live.cache.put(key, cached)
    took = round((time.perf_counter() - started) * 1000, 2)
    return cached.model_copy(update={"took_ms": took})


def to_response(live: Live, query: str, result: Answer) -> AnswerResponse:
    """The public response shape of an answer: the search response of its ranking, plus the answer."""
    return AnswerResponse(
        **dict(search_response(live, query, result.ranking)),
        found=result.found, answer=result.text, confidence=result.confidence,
        citations=[citation(live, s) for s in result.cited],
    )


def citation(live: Live, scored: ScoredPassage) -> CitationOut:
    """A cited passage as post title, heading and deep link."""
    post = live.catalog.version.posts[scored.passage.post_path]
    return CitationOut(path=post.path, title=post.title, url=deep_link(post.url, scored.passage.anchor),
                       heading=scored.passage.heading)


def answer(live: Live, query: str, filters: Filters, k: int, exact: bool = False) -> Answer:
    """Rank passages for the question, pick the best sentence, and abstain when the evidence is weak."""
    depth = max(k, SOURCE_PASSAGES)
    ranking = ranked(live, query, filters, depth, exact)  # the question as searched: its spelling corrected
    result = extract(live, ranking.query, ranking)
    shown = replace(ranking, passages=ranking.passages[:k], posts=ranking.posts[:k], series=ranking.series[:k])
    return replace(result, ranking=shown)


def extract(live: Live, query: str, ranking: Ranking) -> Answer:
    """Score the sentences of the top passages against the question and keep the best one."""
    weights = term_weights(live, query)
    candidates = score_sentences(live, query, ranking.passages[:SOURCE_PASSAGES], weights)
    if not candidates:
        return Answer(False, None, 0.0, (), ranking, None)
    best = max(candidates, key=lambda c: c.score)
    confidence = confidence_of(best, unseen_share(live, weights))
    if not is_answered(confidence):
        return Answer(False, None, round(confidence, 4), (), ranking, best)
    return Answer(True, _trim(best.text), round(confidence, 4), _citations(best, candidates),
                  ranking, best)


def score_sentences(live: Live, query: str, top: list[ScoredPassage],
                    weights: dict[str, float]) -> list[Candidate]:
    """Every sentence of the given passages, scored; the sentences are embedded in one batch."""
    pieces = [(i, s, text, coverage(weights, text)) for i, s in enumerate(top) for text in candidates_of(s)]
    pieces.sort(key=lambda p: -(W_SENTENCE_TERMS * p[3] + W_RANK / (1 + p[0])))  # cheap pre-ranking
    pieces = pieces[:MAX_SENTENCES]
    if not pieces:
        return []
    cosines = sentence_vectors(live, [text for _, _, text, _ in pieces]) @ live.embed_query(query)
    contexts = {id(s): coverage(weights, _context(live, s)) for s in top}
    wants_number = bool(_WANTS_NUMBER.search(query))
    known = set(_NUMBER.findall(query))
    out = []
    for (i, s, text, sentence_terms), cosine in zip(pieces, cosines, strict=True):
        score = (W_COSINE * float(cosine) + W_SENTENCE_TERMS * sentence_terms
                 + W_CONTEXT_TERMS * contexts[id(s)] + W_RANK / (1 + i)
                 + (W_NUMBER if wants_number and set(_NUMBER.findall(text)) - known else 0.0))
        out.append(Candidate(text, s, i, float(cosine), sentence_terms, contexts[id(s)], score))
    return out


def sentence_vectors(live: Live, sentences: list[str]) -> np.ndarray:
    """Sentence embeddings, reusing those of earlier questions; the new ones are encoded in one batch."""
    cache = live.sentence_vectors
    vectors = [cache.get(s) for s in sentences]
    missing = [s for s, v in zip(sentences, vectors, strict=True) if v is None]
    fresh = dict(zip(missing, live.embedder.encode(missing), strict=True))
    for text, vector in fresh.items():
        cache.put(text, vector)
    return np.stack([v if v is not None else fresh[s] for s, v in zip(sentences, vectors, strict=True)])


def confidence_of(best: Candidate, unseen: float) -> float:
    """How sure we are, 0..1: the answer's meaning match and how much of the question its section covers,
    cut steeply when the question names things the blog never mentions ("Nubank", "Godot")."""
    return max(0.0, min(1.0, (0.5 * best.cosine + 0.5 * best.context_terms) * (1.0 - unseen) ** 2))


def is_answered(confidence: float) -> bool:
    """The abstain rule: answer only when the confidence reaches the calibrated threshold."""
    return confidence >= ABSTAIN_BELOW


def term_weights(live: Live, query: str) -> dict[str, float]:
    """IDF of each query stem over the passages, so rare names ("PayPay", "Nubank") weigh most."""
    lexical = live.catalog.version.lexical
    frequency = lexical.document_frequency(term_stems(query))
    return {term: idf(lexical.count, df) for term, df in frequency.items()}


def unseen_share(live: Live, weights: dict[str, float]) -> float:
    """Share of the question's term weight on words that no passage contains."""
    never = idf(live.catalog.version.lexical.count, 0)
    total = sum(weights.values())
    return sum(w for w in weights.values() if w >= never) / total if total > 0 else 0.0


def coverage(weights: dict[str, float], text: str) -> float:
    """Share of the query's term weight whose stems occur in `text`."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = term_stems(text)
    return sum(w for stem, w in weights.items() if stem in present) / total


def candidates_of(scored: ScoredPassage) -> list[str]:
    """The passage's sentences, plus its own heading when that reads like a statement."""
    # These case studies often state the key number in the heading: "Binary Quantization (32x RAM Reduction)".
    heading = scored.passage.heading.rsplit(" > ", 1)[-1]
    return answer_sentences(scored.passage.text) + answer_sentences(heading)


def answer_sentences(text: str) -> list[str]:
    """Sentences and lines of a passage that could be an answer (long enough, and not a question)."""
    return [s.strip(" -*") for s in split_sentences(text) if len(s.split()) >= MIN_WORDS and not s.endswith("?")]


def _context(live: Live, scored: ScoredPassage) -> str:
    post = live.catalog.version.posts[scored.passage.post_path]
    return f"{post.title}\n{scored.passage.heading}\n{scored.passage.text}"


def _citations(best: Candidate, candidates: list[Candidate]) -> tuple[ScoredPassage, ...]:
    # The answer's passage, then other passages whose own best sentence nearly matches it: agreeing sources.
    cited = [best.source]
    for c in sorted(candidates, key=lambda c: -c.score):
        if c.score >= 0.9 * best.score and all(c.source is not s for s in cited):
            cited.append(c.source)
    return tuple(cited[:3])


def _trim(text: str) -> str:
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_ANSWER_CHARS)
    return text[: cut if cut > 0 else MAX_ANSWER_CHARS] + "…"
