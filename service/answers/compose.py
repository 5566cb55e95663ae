"""The answer paragraph: sentences of the best passages that together cover the question, ordered and cited.

No model runs here. Following concept-coverage summarisation (Gillick and Favre, 2009), the words
several evidence passages share are the evidence's concepts, weighted by how many passages use them
and how rare they are in the blog; the question's own words weigh most. Sentences are picked greedily
for the concept weight they add that the ones already picked do not hold (so a second sentence must
say something new), scaled by how well their passage ranked.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from index.store import TermIndex
from index.text import idf, opening, term_stems
from service.answers.expected import Expected, holds, names_other_versions, rates
from service.answers.sentences import Sentence, answer_sentences
from service.search.ranking import ScoredPassage

MAX_SENTENCES = 4
MAX_WORDS = 80
MIN_SENTENCES = 2  # one sentence rarely holds more than one of a question's aspects
SHARED_BY = 2  # a word is one of the evidence's concepts when at least this many passages use it
QUESTION_WEIGHT = 0.5  # a question word counts as if this share of the evidence passages used it
LEAD_QUESTION_WEIGHT = 2.5  # ... and this share when choosing the sentence that holds a number, date or name
PASSAGE_POWER = 2  # a sentence's gain is scaled by its passage's score relative to the best, squared
TOP_POST = 1.5  # ... and by this in the best post: an answer says one post's points first, others add to them
STOP_BELOW = 0.03  # past MIN_SENTENCES, a sentence must add this share of the first sentence's value (bench/QUALITY.md)
MIN_PREFIX = 4  # a name shorter than this must match a word exactly
TYPED_CONTEXT = 0.35  # share of the question's term weight a typed answer's section must hold, about a third
# What makes a sentence a worse piece of an answer than its words suggest.
DANGLING = 0.5  # "This", "It", "However", "Adopting this pattern" lean on a sentence the reader does not see
ABOUT_WRITING = 0.3  # "The August radar analyzes ...": about a post, not the subject
OTHER_VERSION = 0.3  # names Kubernetes 1.33 when 1.36 was asked
MECHANISM = 1.5  # a how/why question: a sentence that says how ("by splitting ...", "uses ...") weighs this much more
OPENER_QUESTION = 0.5  # the core point may open the answer if it says half of what the best says of the question
# Openers that lean on a sentence the reader does not see ("This", "However", "Implementing this architecture"),
# or set a scene rather than answer ("You've instrumented your service ...", "Imagine ...", "Welcome to ...").
_DANGLING = re.compile(r"^(?:this|that|these|those|it|its|they|their|such|however|but|and|also|so|then|here|"
                       r"there|both|each|instead|otherwise|meanwhile|similarly|additionally|furthermore|"
                       r"you've|you're|imagine|picture|let's|suppose|welcome)\b|"
                       r"^(?:[\w-]+ ){1,2}(?:this|these|those)\b", re.IGNORECASE)
# Words that say how something works: what a "how" or "why" question wants.
_MECHANISM = re.compile(r"\b(?:by \w+ing|through|via|uses?|using|relies on|rel(?:y|ies)|"
                        r"instead of|rather than|so that|because|which means|splits?|shards?|partitions?|routes?|"
                        r"replicates?|caches?|queues?|batch(?:es)?|isolat\w+|rehears\w+|runs? on)\b", re.IGNORECASE)
_HOW_QUESTION = re.compile(r"^\W*(?:how|why)\b(?! many| much| fast| long| often| big| large| quickly| far)|"
                           r"\bwhat makes\b|\bhow (?:does|do|did|is|are) .* work\b", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """A sentence that could be part of the answer, with its passage and what scales its value."""

    sentence: Sentence
    source: ScoredPassage
    stems: frozenset[str]
    factor: float  # passage rank and the penalties above, multiplied
    typed: bool  # holds a span of the kind the question asks for
    topic: float = 0.0  # share of its post title's words it says: a sentence that names what the post is about

    @property
    def words(self) -> int:
        """Length in words."""
        return len(self.sentence.text.split())


@dataclass(frozen=True)
class Composed:
    """The chosen sentences in reading order, the passages they cite in [n] order, and the text."""

    text: str
    chosen: tuple[Candidate, ...]
    cited: tuple[ScoredPassage, ...]


Parsed = tuple[tuple[Sentence, frozenset[str]], ...]  # a passage's answer sentences with their stems


def parse(text: str) -> Parsed:
    """A passage's answer sentences, each with its stems (a dropped bullet label's among them: what it is about)."""
    return tuple((s, frozenset(term_stems(f"{s.label}\n{s.text}"))) for s in answer_sentences(text))


def candidates(evidence: list[ScoredPassage], parsed: dict[int, Parsed], expected: Expected,
               question: dict[str, float], contexts: dict[int, frozenset[str]],
               boilerplate: frozenset[str] = frozenset(),
               titles: dict[int, frozenset[str]] | None = None, top_post: str | None = None,
               mechanism: bool = False) -> list[Candidate]:
    """Every answer sentence of the evidence passages (navigation lists left out), in evidence order.

    `parsed` holds each passage's sentences (see `parse`), `contexts` its stems with its post title and
    heading, `titles` the stems of its post's title; `top_post` is the best post of the ranking, whose
    sentences weigh TOP_POST times as much. A sentence holds the kind of span asked for only when
    its context is about the question:
    it names what the question names (a count of Alibaba's orders does not answer a question about
    Amazon's) and holds a fair share of its words.

    A sentence is a candidate once: consecutive passages of a section overlap, and a sentence read twice
    would count its words as shared by two passages. Sentences that open like the blog's boilerplate
    (`boilerplate`, see `index.text.repeated_openings`) are no candidates at all.
    """
    top = max((s.score for s in evidence), default=0.0) or 1.0
    seen: set[str] = set()
    out = []
    for scored in evidence:
        if scored.passage.kind == "nav":
            continue
        context = contexts[scored.passage.id]
        about = not unmatched(expected.names, context) and coverage(question, context) >= TYPED_CONTEXT
        for sentence, stems in parsed[scored.passage.id]:
            if sentence.text in seen or opening(sentence.text) in boilerplate:
                continue
            seen.add(sentence.text)
            factor = (scored.score / top) ** PASSAGE_POWER * (TOP_POST if scored.passage.post_path == top_post else 1.0)
            if _DANGLING.match(sentence.text):
                factor *= DANGLING
            if sentence.about_writing:
                factor *= ABOUT_WRITING
            if mechanism and _MECHANISM.search(sentence.text):
                factor *= MECHANISM
            if names_other_versions(expected, sentence.text):
                factor *= OTHER_VERSION
            title = (titles or {}).get(scored.passage.id, frozenset())
            topic = len(title & stems) / len(title) if title else 0.0
            typed = about and holds(expected, f"{sentence.label}: {sentence.text}" if sentence.label else sentence.text)
            out.append(Candidate(sentence, scored, stems, factor, typed, topic))
    return out


def asks_how(question: str) -> bool:
    """Whether the question asks how or why something works (not "how many", "how fast")."""
    return bool(_HOW_QUESTION.search(question))


def unmatched(names: frozenset[str], stems: frozenset[str]) -> set[str]:
    """The names none of the stems match; a name also matches a longer word it begins ("postgres", "postgresql")."""
    missing = set(names - stems)
    return {n for n in missing if len(n) < MIN_PREFIX or not any(t.startswith(n) for t in stems)}


def concept_weights(pool: list[Candidate], lexical: TermIndex) -> dict[str, float]:
    """Weight of each concept, a word several evidence passages share: (passages using it) x IDF."""
    by_passage: dict[int, set[str]] = {}
    for c in pool:
        by_passage.setdefault(c.source.passage.id, set()).update(c.stems)
    shared = {t: n for t, n in Counter(t for stems in by_passage.values() for t in stems).items() if n >= SHARED_BY}
    frequency = lexical.document_frequency(shared)
    return {t: n * idf(lexical.count, frequency.get(t, 0)) for t, n in shared.items()}


def compose(pool: list[Candidate], concepts: dict[str, float], question: dict[str, float],
            expected: Expected) -> Composed | None:
    """Pick 2-4 sentences greedily by the concept weight each adds, order and cite them; None when none fits.

    A question word weighs as if QUESTION_WEIGHT of the evidence passages used it. A question that asks
    for a number, date, version or name starts with the sentence holding one that says most of what the
    question names ("control plane", "month"): its words weigh LEAD_QUESTION_WEIGHT for that pick.
    """
    typed = [c for c in pool if c.typed]
    if not pool or (expected.kind != "open" and not typed):
        return None
    passages = len({c.source.passage.id for c in pool})
    weights = _with_question(concepts, question, QUESTION_WEIGHT * passages)
    chosen: list[Candidate] = []
    if expected.kind != "open":
        lead_weights = _with_question(concepts, question, LEAD_QUESTION_WEIGHT * passages)
        chosen.append(max(typed, key=lambda c: _value(c, lead_weights, set())))
    covered: set[str] = set().union(*(c.stems for c in chosen))
    words = sum(c.words for c in chosen)
    first = _value(chosen[0], weights, set()) if chosen else 0.0
    figures = {id(c): rates(c.sentence.text) for c in pool}
    while len(chosen) < MAX_SENTENCES:
        best, value = None, 0.0
        for c in pool:
            if words + c.words > MAX_WORDS or any(c.sentence.text == o.sentence.text for o in chosen):
                continue
            if chosen and not _on_topic(c, chosen, question, covered):
                continue
            if any(figures[id(c)].keys() & figures[id(o)].keys() for o in chosen):
                continue  # one figure per fact: "610,000 peak TPS" beside "544,000 TPS", or the same one twice
            gain = _value(c, weights, covered)
            if gain > value:
                best, value = c, gain
        if best is None or (len(chosen) >= MIN_SENTENCES and value < STOP_BELOW * first):
            break
        first = first or value
        chosen.append(best)
        covered |= best.stems
        words += best.words
    if not chosen:
        return None
    ordered = reading_order(chosen, question, opener=expected.kind == "open")
    # One citation per section: two passages of one long section share its deep link.
    cited = {section(c.source): c.source for c in reversed(ordered)}
    numbers = {key: n for n, key in enumerate(dict.fromkeys(section(c.source) for c in ordered), 1)}
    text = " ".join(cite(c.sentence.text, numbers[section(c.source)]) for c in ordered)
    return Composed(text, tuple(ordered), tuple(cited[key] for key in numbers))


def section(scored: ScoredPassage) -> tuple[str, str]:
    """What a citation points at: the post and the heading anchor (one deep link)."""
    return scored.passage.post_path, scored.passage.anchor


def _with_question(concepts: dict[str, float], question: dict[str, float], scale: float) -> dict[str, float]:
    weights = dict(concepts)
    for term, weight in question.items():
        weights[term] = weights.get(term, 0.0) + scale * weight
    return weights


def _on_topic(c: Candidate, chosen: list[Candidate], question: dict[str, float], covered: set[str]) -> bool:
    """A sentence joins the answer when it comes from a post already cited, or adds to the question: it holds one
    of the question's weightier words (at least the mean weight) or a word of the question the answer does not
    hold yet. Words shared with the evidence alone, or only the question's lightest words, pull in a
    neighbouring post's line that says nothing more of what was asked."""
    if any(c.source.passage.post_path == o.source.passage.post_path for o in chosen):
        return True
    if not question:
        return False
    mean = sum(question.values()) / len(question)
    return any(question.get(t, 0.0) >= mean or (t in question and t not in covered) for t in c.stems)


def _value(c: Candidate, weights: dict[str, float], covered: set[str]) -> float:
    """What a sentence adds: the weight of its concepts not yet covered, scaled by its factor."""
    return c.factor * sum(weights.get(t, 0.0) for t in c.stems - covered)


def reading_order(chosen: list[Candidate], question: dict[str, float] | None = None,
                  opener: bool = True) -> list[Candidate]:
    """The core point first, then the others passage by passage, each passage's in the blog's order.

    The core point is the sentence that names what its post is about (`Candidate.topic`) and still says at
    least OPENER_QUESTION of what the best sentence says of the question: "The testing/synctest package
    eliminates flaky tests ..." before "The runtime scheduler fast-forwards the clock ...", but never the
    title line of a neighbouring post. Otherwise, and for typed answers (`opener` off: they open with the
    span asked for), the best sentence opens.
    """
    first = chosen[0]
    if opener:
        floor = OPENER_QUESTION * coverage(question or {}, first.stems)
        core = [c for c in chosen if c.topic > first.topic and coverage(question or {}, c.stems) >= floor]
        first = max(core, key=lambda c: c.topic, default=first)
    rest = [c for c in chosen if c is not first]
    passages = [first.source.passage.id, *dict.fromkeys(c.source.passage.id for c in rest)]
    return [first, *sorted(rest, key=lambda c: (passages.index(c.source.passage.id), c.sentence.position))]


def cite(text: str, number: int) -> str:
    """The sentence with its [n] marker before the final full stop."""
    text = text.rstrip()
    if text.endswith((".", "!")):
        return f"{text[:-1]} [{number}]{text[-1]}"
    return f"{text} [{number}]."


def coverage(question: dict[str, float], stems: frozenset[str]) -> float:
    """Share of the question's term weight on the given stems (0 for a question without weighted words)."""
    total = sum(question.values())
    return sum(w for term, w in question.items() if term in stems) / total if total > 0 else 0.0
