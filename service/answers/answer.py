"""Answers: a short paragraph composed from the best evidence and cited [n] to its passages, or an abstention."""

from __future__ import annotations

from dataclasses import dataclass, replace

from index.cache import Lru
from index.text import term_stems
from service.answers.compose import Candidate, Parsed, candidates, compose, concept_weights, parse, section, unmatched
from service.answers.confidence import confidence_of, is_answered, term_weights
from service.answers.expected import expected
from service.schemas import AnswerResponse, CitationOut
from service.search.live import Filters, Live
from service.search.query import read_query
from service.search.ranking import Ranking, ScoredPassage
from service.search.results import deep_link, kept, ranked
from service.search.results import to_response as search_response

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


class ParsedSentences(Lru[int, Parsed]):
    """A version's passages' answer sentences by passage id, parsed once and kept while popular."""

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


def extract(live: Live, ranking: Ranking) -> Answer:
    """Compose the answer from the ranking's evidence; abstain when it is weak, misses what the question
    names, or holds nothing of the kind asked."""
    wanted = expected(ranking.query)
    weights = {t: w for t, w in term_weights(live, ranking.query).items() if t not in wanted.form}
    evidence = evidence_passages(live, ranking)
    contexts = context_stems(live, evidence)
    confidence = round(confidence_of(live, weights, evidence, contexts), 4)
    if not evidence or not is_answered(confidence):
        return Answer(False, None, confidence, (), ranking, evidence=tuple(evidence))
    # The evidence is strong but not about what was asked: "Gojek" is in no passage, or no sentence holds a
    # number of brokers. Confidence 0 says so, rather than a high number beside found=false.
    if unmatched(wanted.names, frozenset().union(*contexts.values())):
        return Answer(False, None, 0.0, (), ranking, evidence=tuple(evidence))
    pool = candidates(evidence, parsed_sentences(live, evidence), wanted, weights, contexts,
                      live.version.boilerplate, title_stems(live, evidence),
                      ranking.posts[0].post.path if ranking.posts else None)
    composed = compose(pool, concept_weights(pool, live.version.lexical), weights, wanted)
    if composed is None:  # nothing in the evidence is the kind of thing asked: a number, a date, a name
        return Answer(False, None, 0.0, (), ranking, evidence=tuple(evidence))
    return Answer(True, composed.text, confidence, composed.cited, ranking, composed.chosen, tuple(evidence))


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


def context_stems(live: Live, evidence: list[ScoredPassage]) -> dict[int, frozenset[str]]:
    """Each evidence passage's stems, with its post's title and its heading."""
    posts = live.version.fetch_posts({s.passage.post_path: None for s in evidence})
    return {s.passage.id: frozenset(term_stems(f"{posts[s.passage.post_path].title}\n{s.passage.heading}\n"
                                               f"{s.passage.text}")) for s in evidence}


def title_stems(live: Live, evidence: list[ScoredPassage]) -> dict[int, frozenset[str]]:
    """Each evidence passage's post title, as stems."""
    posts = live.version.fetch_posts({s.passage.post_path: None for s in evidence})
    return {s.passage.id: frozenset(term_stems(posts[s.passage.post_path].title)) for s in evidence}


def prompt_evidence(result: Answer) -> list[ScoredPassage]:
    """What a language model is given: the passages the extractive answer cites, then the rest of its evidence."""
    cited = {s.passage.id for s in result.cited}
    rest = [s for s in (*result.evidence, *result.ranking.passages) if s.passage.id not in cited]
    return [*result.cited, *{s.passage.id: s for s in rest}.values()]
