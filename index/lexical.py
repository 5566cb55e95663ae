"""Lexical search: BM25 over passages with bm25s, stemmed, so exact terms like `RZone` are never lost."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.records import Hit

# bm25s sets its own logger to DEBUG on import, which would print a line per index built.
logging.getLogger("bm25s").setLevel(logging.WARNING)
_STEMMER = Stemmer.Stemmer("english")
# The longer list also drops question words ("how", "should", "we"), which match every post.
_STOPWORDS = sorted(STOPWORDS_EN_PLUS)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-case, stem and drop English stop words; the same rule for passages and queries."""
    return bm25s.tokenize(texts, stopwords=_STOPWORDS, stemmer=_STEMMER, return_ids=False, show_progress=False)


@lru_cache(maxsize=8192)
def query_terms(text: str) -> tuple[str, ...]:
    """The distinct stems of a text, in order; cached, since one search tokenizes its query for both
    BM25 indexes and every snippet, and answers score the same popular passages again and again."""
    return tuple(dict.fromkeys(tokenize([text])[0]))


class LexicalSearch:
    """A BM25 index over passage texts, scored in full so filters are a simple mask."""

    def __init__(self, bm25: bm25s.BM25, count: int) -> None:
        self._bm25 = bm25
        self.count = count

    @classmethod
    def build(cls, texts: list[str]) -> LexicalSearch:
        """Index the texts; row i of the corpus is passage id i."""
        bm25 = bm25s.BM25()
        if texts:
            bm25.index(tokenize(texts), show_progress=False)
        return cls(bm25, len(texts))

    @classmethod
    def load(cls, folder: Path, count: int) -> LexicalSearch:
        """Read an index written by `save`."""
        if count == 0:
            return cls(bm25s.BM25(), 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False), count)

    def save(self, folder: Path) -> None:
        """Write the index files into a folder."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.count:
            self._bm25.save(str(folder), show_progress=False)

    def term_scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for each distinct query term: a (terms, passages) array."""
        tokens = list(query_terms(query)) if self.count else []
        if not tokens:  # punctuation or stop words only ("*", "how"): bm25s fails on an empty list
            return np.zeros((0, self.count), dtype=np.float32)
        return np.stack([np.asarray(self._bm25.get_scores([t]), dtype=np.float32) for t in tokens])

    def document_frequency(self, stems: Iterable[str]) -> dict[str, int]:
        """How many passages contain each stem, read off the index (0 for a stem it never saw)."""
        if not self.count:
            return {stem: 0 for stem in stems}
        vocabulary, starts = self._bm25.vocab_dict, self._bm25.scores["indptr"]
        # Column t of bm25s's sparse score matrix holds one entry per passage containing token t.
        return {stem: int(starts[t + 1] - starts[t]) if (t := vocabulary.get(stem)) is not None
                and t + 1 < len(starts) else 0 for stem in stems}

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the whole query (zeros when no query term is known)."""
        per_term = self.term_scores(query)
        return per_term.sum(axis=0) if len(per_term) else np.zeros(self.count, dtype=np.float32)

    def search(self, query: str, k: int, within: Collection[int] | None = None) -> list[Hit]:
        """Return up to k passages with a positive BM25 score, best first, with their query coverage."""
        per_term = self.term_scores(query)
        if not len(per_term):
            return []
        scores = per_term.sum(axis=0)
        if within is not None:
            mask = np.zeros_like(scores, dtype=bool)
            mask[np.fromiter(within, dtype=np.int64)] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, int(np.count_nonzero(scores > 0)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        # Coverage: the share of the query's term weight (idf) a passage matches. One shared common
        # word is a weak lexical hit, however high it ranks among other weak hits.
        matched = per_term[:, top] > 0
        frequency = self.document_frequency(query_terms(query))
        idf = np.log1p(self.count / np.maximum(1, np.array(list(frequency.values()))))
        coverage = (idf[:, None] * matched).sum(axis=0) / idf.sum()
        return [Hit(int(i), float(scores[i]), float(c)) for i, c in zip(top, coverage, strict=True)]


def term_stems(text: str) -> set[str]:
    """The stems BM25 matches on, for highlighting the words a query matched."""
    return set(query_terms(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one lower-cased word."""
    return str(_STEMMER.stemWord(word.lower()))
