"""Answers: a short paragraph composed from the best evidence and cited [n] to its passages, or an abstention."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from index.cache import Lru
from index.text import term_stems
from service.answers.attribute import asked, tied
from service.answers.compose import (
    Candidate,
    Composed,
    Parsed,
    asks_how,
    candidates,
    compose,
    concept_weights,
    parse,
    section,
)
from service.answers.confidence import RULE, Rule, calibrated, evidence_score, support, term_weights
from service.answers.expected import expected
from service.answers.subject import Subject, subject
from service.schemas import AnswerResponse, CitationOut
from service.search.live import Filters, Live
from service.search.query import read_query
from service.search.ranking import Ranking, ScoredPassage
from service.search.results import deep_link, kept, ranked
from service.search.results import to_response as search_response

# A description that opens "How Alipay handles ..." reads as a sentence without its "How".
_HOW_OPENING = re.compile(r"^How (?=[A-Z]\w*(?: [A-Z]\w*)* \w+s\b)")
_WH_OPENING = re.compile(r"^(?:how|why|what|which|when|where|who)\b", re.IGNORECASE)
SOURCE_PASSAGES = 8  # sentences come from the best passages; deeper ones rarely add a point
LEAD_POSTS = 2  # the first passage of the best posts joins them: it holds the post's own summary
PASSAGE_SENTENCES = 4096  # passages whose answer sentences are kept parsed; answers read the same popular ones


@dataclass(frozen=True)
class Answer:
    """An answer (or an abstention) with the passages that support it and the ranking it came from."""

    found: bool
    text: str | None
    confidence: float
    cited: tuple[ScoredPassage, ...]  # in [n] order: [1] is cited[0]; empty when not found
    ranking: Ranking  # what the question found, shown either way
    sentences: tuple[Candidate, ...] = ()  # the answer's sentences in reading order
    evidence: tuple[ScoredPassage, ...] = ()  # the passages the sentences were chosen from, best first


class ParsedDescriptions(Lru[str, Parsed]):
    """A version's post descriptions as answer sentences by post path, parsed once and kept while popular."""

    def __init__(self, live: Live) -> None:
        super().__init__(PASSAGE_SENTENCES)


class ParsedSentences(Lru[int, Parsed]):
    """A version's passages' answer sentences by passage id, parsed once and kept while popular."""

    def __init__(self, live: Live) -> None:
        super().__init__(PASSAGE_SENTENCES)


class PassageStems(Lru[int, tuple[frozenset[str], frozenset[str]]]):
    """A version's passages' stems (with post title and heading) and post title stems by passage id, kept while
    popular: answers read the same popular passages."""

    def __init__(self, live: Live) -> None:
        super().__init__(PASSAGE_SENTENCES)


def run_ask(live: Live, query: str, filters: Filters, k: int, exact: bool = False,
            asker: str = "") -> AnswerResponse:
    """Answer a question from the live index; the same asker's repeated question comes from the version's cache."""
    return kept(live.answers, (asker, query, filters, k, exact), lambda: ask(live, query, filters, k, exact, asker))


def ask(live: Live, query: str, filters: Filters, k: int, exact: bool = False, asker: str = "") -> AnswerResponse:
    """Answer a question and shape the response, reading the version through one connection (a database store)."""
    with live.version.reading():
        return to_response(live, answer(live, query, filters, k, exact, asker))


def to_response(live: Live, result: Answer) -> AnswerResponse:
    """The public response shape of an answer: the search response of its ranking, plus the answer."""
    quoted: dict[tuple[str, str], list[str]] = {}
    for c in result.sentences:
        quoted.setdefault(section(c.source), []).append(c.sentence.text)
    with live.version.reading():
        return AnswerResponse(
            **dict(search_response(live, result.ranking)),
            found=result.found, answer=result.text, confidence=result.confidence,
            citations=citations(live, result.cited, quoted),
        )


def citations(live: Live, cited: tuple[ScoredPassage, ...] | list[ScoredPassage],
              quoted: dict[tuple[str, str], list[str]] | None = None) -> list[CitationOut]:
    """Cited passages as post title, heading and deep link, each with the sentences the answer took from it."""
    posts = live.version.fetch_posts({s.passage.post_path: None for s in cited})
    out = []
    for scored in cited:
        post = posts[scored.passage.post_path]
        out.append(CitationOut(path=post.path, title=post.title, url=deep_link(post.url, scored.passage.anchor),
                               heading=scored.passage.heading, sentences=(quoted or {}).get(section(scored), [])))
    return out


def answer(live: Live, query: str, filters: Filters, k: int, exact: bool = False, asker: str = "") -> Answer:
    """Rank passages for the question, compose the answer from the best of them, or abstain."""
    with live.version.reading():
        ranking = ranked(live, read_query(live, query, exact), filters, max(k, SOURCE_PASSAGES), asker)
        result = extract(live, ranking)
    shown = replace(ranking, passages=ranking.passages[:k], posts=ranking.posts[:k], series=ranking.series[:k])
    return replace(result, ranking=shown)


@dataclass(frozen=True)
class Assessed:
    """What the abstain rule reads of one question: the evidence score, the composed answer (None when nothing
    fits), and where the cited passages hold the question's words."""

    score: float
    composed: Composed | None
    subject: Subject | None
    evidence: tuple[ScoredPassage, ...]


def extract(live: Live, ranking: Ranking, rule: Rule = RULE) -> Answer:
    """Compose the answer from the ranking's evidence; abstain when it is weak, misses what the question
    names, or holds nothing of the kind asked."""
    assessed = assess(live, ranking, rule.abstain_below, "model" in rule.judges)
    return decide(assessed, ranking, rule)


def assess(live: Live, ranking: Ranking, floor: float = 0.0, model: bool = False) -> Assessed:
    """Score the evidence; past `floor`, compose the answer and find the question's words in what it cites
    (with `model`, also how close the model puts each missing word: what only a rule with the model judge reads)."""
    wanted = expected(ranking.query)
    weights = {t: w for t, w in term_weights(live, ranking.query).items() if t not in wanted.form}
    evidence = evidence_passages(live, ranking)
    contexts, titles = passage_stems(live, evidence)
    score = round(evidence_score(live, weights, evidence, contexts), 4)
    if not evidence or score < floor:
        return Assessed(score, None, None, tuple(evidence))
    parsed = parsed_sentences(live, evidence)
    pool = candidates(evidence, with_descriptions(live, evidence, parsed) if wanted.kind == "open" else parsed, wanted,
                      weights, contexts, live.version.boilerplate, titles,
                      ranking.posts[0].post.path if ranking.posts else None, asks_how(ranking.query.text))
    composed = compose(pool, concept_weights(pool, live.version.lexical), weights, wanted)
    if composed is None:  # nothing in the evidence is the kind of thing asked: a number, a date, a name
        return Assessed(score, None, None, tuple(evidence))
    said = frozenset().union(*(c.stems for c in composed.chosen), *(term_stems(s.passage.heading)
                                                                   for s in composed.cited))
    sentences = [(f"{c.sentence.label}: {c.sentence.text}" if c.sentence.label else c.sentence.text, c.stems, c.typed)
                 for c in composed.chosen]
    held = tied(asked(ranking.query.text, wanted), wanted, sentences)
    return Assessed(score, composed, subject(live, ranking.query, composed.cited, contexts, wanted.form, model,
                                             wanted.detail, said, held), tuple(evidence))


def decide(assessed: Assessed, ranking: Ranking, rule: Rule = RULE) -> Answer:
    """The abstain rule: answer when the support (evidence score scaled by the share of the question's subject
    the cited passages hold) reaches the threshold. The confidence is the calibrated support; 0 when nothing in
    the evidence is of the kind asked."""
    evidence, composed = assessed.evidence, assessed.composed
    if composed is None or assessed.subject is None:
        # Weak evidence, or strong evidence without a sentence of the kind asked (no number of brokers).
        score = assessed.score if assessed.score < rule.abstain_below else 0.0
        return Answer(False, None, round(calibrated(score, rule), 4) if score else 0.0, (), ranking,
                      evidence=evidence)
    held = support(assessed.score, assessed.subject, rule)
    confidence = round(calibrated(held, rule), 4)
    if held < rule.abstain_below:
        return Answer(False, None, confidence, (), ranking, evidence=evidence)
    return Answer(True, composed.text, confidence, composed.cited, ranking, composed.chosen, evidence)


def evidence_passages(live: Live, ranking: Ranking) -> list[ScoredPassage]:
    """The best passages, plus the opening passage of the best posts, where the blog states its summary."""
    evidence = list(ranking.passages[:SOURCE_PASSAGES])
    have = {s.passage.id for s in evidence}
    version = live.version
    for post in ranking.posts[:LEAD_POSTS]:
        lead = version.lead_passage(post.post.path)
        if lead is not None and lead not in have and post.passages:
            evidence.append(ScoredPassage(version.passages[lead], post.passages[0].score, 0.0, 0.0))
            have.add(lead)
    return evidence


def parsed_sentences(live: Live, evidence: list[ScoredPassage]) -> dict[int, Parsed]:
    """Each evidence passage's answer sentences, parsed once per index version and kept while popular."""
    cache = live.derived(ParsedSentences)
    out: dict[int, Parsed] = {}
    for scored in evidence:
        pid = scored.passage.id
        parsed = cache.get(pid)
        if parsed is None:
            parsed = parse(scored.passage.text)
            cache.put(pid, parsed)
        out[pid] = parsed
    return out


def with_descriptions(live: Live, evidence: list[ScoredPassage], parsed: dict[int, Parsed]) -> dict[int, Parsed]:
    """The passages' sentences, with each post's description leading its opening passage's where that passage is
    evidence: the blog's one-line summary of a post or series ("How Alipay handles Double 11 by splitting ...")
    is a candidate like any sentence of it, cited to the top of its post, where the page shows it. A description
    that still opens with a question word ("Why X moved ...", "How databases use ...") is a title, not an answer."""
    leads = [s for s in evidence if live.version.lead_passage(s.passage.post_path) == s.passage.id]
    cache = live.derived(ParsedDescriptions)
    described = cache.get_many(s.passage.post_path for s in leads)
    missing = live.version.fetch_posts(s.passage.post_path for s in leads if s.passage.post_path not in described)
    for path, post in missing.items():
        described[path] = described_as(post.description)
        cache.put(path, described[path])
    out = dict(parsed)
    for scored in leads:
        out[scored.passage.id] = described.get(scored.passage.post_path, ()) + out[scored.passage.id]
    return out


def described_as(description: str) -> Parsed:
    """A post's description as answer sentences leading its opening passage; none when it reads as a title."""
    text = _HOW_OPENING.sub("", description)
    if _WH_OPENING.match(text):
        return ()
    return tuple((replace(sentence, position=-1, summary=True), stems) for sentence, stems in parse(text))


def passage_stems(live: Live, evidence: list[ScoredPassage]) -> tuple[dict[int, frozenset[str]],
                                                                         dict[int, frozenset[str]]]:
    """Each evidence passage's stems with its post's title and its heading, and its post title's stems: stemmed
    once per index version and kept while popular."""
    cache = live.derived(PassageStems)
    found = {s.passage.id: cached for s in evidence if (cached := cache.get(s.passage.id)) is not None}
    missing = [s for s in evidence if s.passage.id not in found]
    posts = live.version.fetch_posts({s.passage.post_path: None for s in missing})
    for s in missing:
        title = posts[s.passage.post_path].title
        found[s.passage.id] = (frozenset(term_stems(f"{title}\n{s.passage.heading}\n{s.passage.text}")),
                               frozenset(term_stems(title)))
        cache.put(s.passage.id, found[s.passage.id])
    return ({s.passage.id: found[s.passage.id][0] for s in evidence},
            {s.passage.id: found[s.passage.id][1] for s in evidence})


def prompt_evidence(result: Answer) -> list[ScoredPassage]:
    """What a language model is given: the passages the extractive answer cites, then the rest of its evidence."""
    cited = {s.passage.id for s in result.cited}
    rest = [s for s in (*result.evidence, *result.ranking.passages) if s.passage.id not in cited]
    return [*result.cited, *{s.passage.id: s for s in rest}.values()]
