"""The question's own subject: the words that make it specific, and whether the passages an answer cites hold them.

"How do I replace a tripped circuit breaker in my home's electrical panel?" shares "circuit breaker" with a
post on microservices; "electrical" and "panel" make it the question it is, and no cited passage holds them.
A word is specific when it is a name (a capitalised word past the first, a code token, a year, a version),
rare in English (the model's tokenizer does not hold it whole) or rare in the blog. Each is looked for in the
cited passages, with their post title and heading, by three judges of "the same word or a close meaning":
- as a word: its stem, a longer word it begins ("postgres", "postgresql"), or the word spelling put in its
  place when that was a typo (one edit, lower case); a correction of a name or a real word is no evidence
  ("Deliveroo" read as "Delivery", "geocaches" as "gocache");
- in the post: another section of a cited post holds it (the blog uses the two together);
- by the model: the word alone, embedded, is close to a cited passage's vector (measured, and off in `RULE`: it
  changed no held-out decision for the better, bench/QUALITY.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import OSA

from index.text import query_words, term_stems
from service.answers.expected import UNITS, names, without_possessive
from service.search.live import Live
from service.search.query import Query
from service.search.ranking import ScoredPassage

MIN_PREFIX = 4  # a stem shorter than this must match a word exactly
ORDINARY_RANK = 5000  # token ids below this are the ~3,000 commonest English words: "wrong", "goes", "sure"
RARE = 1_000_000  # the rank of a word the model's vocabulary does not hold whole
TYPO_EDITS = 1  # a correction this close to a lower-case typed word is a typo of it, so its evidence counts
# A capitalised word this common in English after a name makes one name of the two ("Pydantic AI", "Google Drive",
# "SEPA Instant"): the blog writing "Pydantic" and "AI" apart does not write about it.
COMPOUND_RANK = 12000
MIN_INNER = 8  # a code token this long is held inside a longer one ("SetConnMaxLifetime" holds "ConnMaxLifetime")
_TOKEN = re.compile(r"[A-Za-z0-9][\w.+/-]*|[^\w\s]")
_CAMEL = re.compile(r"\b\w*[a-z]\w*[A-Z]\w*")
# A unit after a number ("a 3 TB database") is the reader's quantity, not a name the blog must write.
_QUANTITY = re.compile(r"\d\s?([A-Za-z]+)\b")
_UNIT_WORDS = frozenset(u for units in UNITS.values() for u in units)
_SPACING = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class Word:
    """One word of the question as typed, what it is, and where the cited passages hold it."""

    typed: str
    stem: str
    name: bool  # a name, code token, year or version: "PayPay", "2021", "gRPC"
    rank: int  # its token id in the model's vocabulary, roughly its rank by frequency in English; RARE if none
    passages: int  # passages of the blog that use it (0: the blog never does)
    literal: bool  # a cited passage (with its title and heading) holds it, or its typo's correction
    in_post: bool  # another section of a cited post holds it
    closeness: float  # the model's cosine between the word alone and the closest cited passage (0 when held)

    def specific(self, rare_passages: float, rare_rank: int) -> bool:
        """Whether the word makes the question specific: a name, rare in English, or past the commonest
        English words and used by few of the blog's passages ("electrical" in a blog about software)."""
        return (self.name or self.rank >= rare_rank
                or (self.rank >= ORDINARY_RANK and self.passages <= rare_passages))


@dataclass(frozen=True)
class Subject:
    """The question's words with where the cited passages hold them, and how many question words they hold."""

    words: tuple[Word, ...]
    blog_passages: int  # passages in the blog: the scale of `Word.passages`
    detail_held: bool = True  # the answer's sentences (or cited headings) say the attribute asked ("fee")
    compounds_held: bool = True  # a cited post writes each name of several words as the question does
    tied: bool = True  # one of its sentences states the value asked beside what it is of (`attribute.tied`)


class WordRanks:
    """The model's whole words with their token ids, for one version (read once)."""

    def __init__(self, live: Live) -> None:
        self.ranks = live.embedder.word_ranks()


def subject(live: Live, query: Query, cited: tuple[ScoredPassage, ...] | list[ScoredPassage],
            contexts: dict[int, frozenset[str]], skip: frozenset[str] = frozenset(), model: bool = True,
            detail: frozenset[str] = frozenset(), said: frozenset[str] = frozenset(), tied: bool = True) -> Subject:
    """Each question word (bar `skip`, the asking words such as "how many") and where `cited` holds it; whether
    `said` (the answer's stems with its cited headings) holds every stem of `detail`, the attribute asked.
    `contexts` holds each cited passage's stems with its post title and heading (`answer.passage_stems`).

    With `model` off, no word is embedded (closeness 0): what the model judge costs, it costs only here.
    """
    version = live.version
    # The Query's words are those of the searched text; the reader's own differ only when spelling changed them.
    words_typed = query.words if query.corrected is None else query_words(query.typed)
    typed_words = [(w, s) for w, s in words_typed if s not in skip]
    named = names(query.typed)
    aliases = typo_aliases(query, live.speller.writes_as_name)
    held_by_cited = frozenset().union(*(contexts[s.passage.id] for s in cited))
    frequency = version.lexical.document_frequency([s for _, s in typed_words])
    ranks = live.derived(WordRanks).ranks
    code = {stem for token in _CAMEL.findall(query.typed) for stem in term_stems(token)}
    literal = {s: held(s, held_by_cited, s in code) or any(held(a, held_by_cited) for a in aliases.get(w, ()))
               for w, s in typed_words}
    missing = [s for s, found in literal.items() if not found]
    in_post = posts_holding(live, cited, missing, frozenset(named), frozenset(code))
    closeness = model_closeness(live, cited, [w for w, s in typed_words if s in missing]) if model else {}
    quantities = {u.lower() for u in _QUANTITY.findall(query.typed) if u.lower() in _UNIT_WORDS}
    words = tuple(Word(w, s, w not in quantities and is_name(w, s in named and typed_capitalised(w, query.typed),
                                                             ranks.get(w, RARE), typed_upper(w, query.typed)),
                       ranks.get(w, RARE), frequency.get(s, 0),
                       literal[s], s in in_post, closeness.get(w, 0.0)) for w, s in typed_words)
    compounds = compound_names(query.typed, ranks)
    return Subject(words, version.lexical.count, detail <= said, compounds_held=not compounds or written_in_posts(
        live, cited, compounds), tied=tied)


def compound_names(typed: str, ranks: dict[str, int]) -> list[str]:
    """The question's names of several words, lower case: runs of capitalised words past the first word in which a
    word after the first is common in English ("Pydantic AI", "Spark Structured Streaming"), not two names side by
    side ("Alipay LDC", "AWS NLB"). A possessive ends a run ("Shopee's BI team")."""
    out, run = [], []
    for i, token in enumerate(_TOKEN.findall(typed)):
        word = without_possessive(token)
        if i > 0 and word[:1].isupper() and len(word) > 1:
            run.append(word)
            if word == token:
                continue
        if len(run) > 1 and any(ranks.get(w.lower(), RARE) < COMPOUND_RANK for w in run[1:]):
            out.append(" ".join(run).lower())
        run = []
    if len(run) > 1 and any(ranks.get(w.lower(), RARE) < COMPOUND_RANK for w in run[1:]):
        out.append(" ".join(run).lower())
    return out


def written_in_posts(live: Live, cited: tuple[ScoredPassage, ...] | list[ScoredPassage], compounds: list[str]) -> bool:
    """Whether the cited posts (titles, every passage with its heading) write each compound name, spacing and
    hyphens aside."""
    version = live.version
    paths = list(dict.fromkeys(s.passage.post_path for s in cited))
    posts = version.fetch_posts({p: None for p in paths})
    passages = version.fetch_passages([pid for p in paths for pid in version.evidence_by_post.get(p, ())])
    texts = [posts[p].title for p in paths] + [f"{passage.heading}\n{passage.text}" for passage in passages.values()]
    written = _SPACING.sub(" ", "\n".join(texts).lower())
    return all(_SPACING.sub(" ", c) in written for c in compounds)


def is_name(word: str, capitalised: bool, rank: int, upper: bool = False) -> bool:
    """A name: a word with a digit ("2021", "s3"), or one the question capitalises past its first word that is not
    among the commonest English words ("Written in Go" capitalises no name). A word written in capitals that is a
    common English word ("is it OK", token id 7929) is that word shouted, not a name; "BI" or "DBA" are names."""
    if upper and rank < COMPOUND_RANK:
        return any(c.isdigit() for c in word)
    return any(c.isdigit() for c in word) or (capitalised and rank >= ORDINARY_RANK)


def typed_upper(word: str, typed: str) -> bool:
    """Whether the reader wrote this (lower-cased) word all in capitals: "OK", "AI"."""
    match = re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", typed, re.IGNORECASE)
    return match is not None and len(match.group(0)) > 1 and match.group(0).isupper()


def typed_capitalised(word: str, typed: str) -> bool:
    """Whether the reader wrote this (lower-cased) word with a capital: "dirven" in "AI-dirven" is no name."""
    match = re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", typed, re.IGNORECASE)
    return match is not None and any(c.isupper() for c in match.group(0))


def typo_aliases(query: Query, writes_as_name: Callable[[str], bool]) -> dict[str, tuple[str, ...]]:
    """Typed word (lower case) -> the stems of its correction, for the corrections that read as typos: a lower-case
    word one edit from the blog's ("inide" -> "inside"), or a capitalised one within spelling's edits of a name the
    blog writes capitalised ("PaPay" -> "PayPay"). A capitalised word read as an ordinary word is a name the blog
    lacks ("Inngest" -> "Ingest", "Deliveroo" -> "Delivery"), and a word two edits away is another word
    ("geocaches" -> "gocache")."""
    out: dict[str, tuple[str, ...]] = {}
    for typed, word in query.corrections:
        close = OSA.distance(typed.lower(), word.lower()) <= TYPO_EDITS
        if (typed.islower() and close) or (not typed.islower() and writes_as_name(word)):
            out[typed.lower()] = tuple(term_stems(word))
    return out


def held(stem: str, stems: frozenset[str], code: bool = False) -> bool:
    """Whether the stem is among `stems`, or written there in another form: a longer word it begins (a name's
    longer spelling, "postgresql"), its plural ("DBAs"), a longer token it begins before a separator ("x86_64"),
    or, for a code token (`code`), a longer one that ends in it ("SetConnMaxLifetime")."""
    if stem in stems or f"{stem}s" in stems or f"{stem}es" in stems:
        return True
    for t in stems:
        if t.startswith(stem) and (len(stem) >= MIN_PREFIX or t[len(stem):len(stem) + 1] in ("_", ".", "-", "/")):
            return True
        if code and len(stem) >= MIN_INNER and t.endswith(stem):
            return True
    return False


def posts_holding(live: Live, cited: tuple[ScoredPassage, ...] | list[ScoredPassage],
                  stems: list[str], named: frozenset[str] = frozenset(),
                  code: frozenset[str] = frozenset()) -> set[str]:
    """The stems that some passage of a cited post holds; a name (`named`) also in another form (`held`: "DBAs",
    "SetConnMaxLifetime"): the post's passages are read for a name the index does not hold as it is."""
    if not stems:
        return set()
    rows = [pid for path in dict.fromkeys(s.passage.post_path for s in cited)
            for pid in live.version.evidence_by_post.get(path, ())]
    if not rows:
        return set()
    out: set[str] = set().union(*live.version.lexical.holding(stems, rows))
    rest = [s for s in stems if s not in out and s in named]
    if rest:
        passages = live.version.fetch_passages(rows)
        written = frozenset().union(*(term_stems(f"{p.heading}\n{p.text}") for p in passages.values()))
        out.update(s for s in rest if held(s, written, s in code))
    return out


def model_closeness(live: Live, cited: tuple[ScoredPassage, ...] | list[ScoredPassage],
                    words: list[str]) -> dict[str, float]:
    """Each word's cosine, embedded alone, with the closest cited passage: one batch for all the words."""
    if not words or not cited:
        return {}
    vectors = live.embedder.encode(words)
    ids = [s.passage.id for s in cited]
    out = {}
    for word, vector in zip(words, vectors, strict=True):
        hits = live.version.vectors.search(np.asarray(vector, dtype=np.float32), len(ids), within=ids)
        out[word] = max((h.score for h in hits), default=0.0)
    return out
