"""`Query`: a reader's query read once per request — what was typed, what is searched, and its words."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from index.spelling import Correction
from index.text import query_words
from service.search.live import Live

# Unknown words looked up for a correction per query, each a scan of the blog's words (~1 ms): the judged typo
# questions hold one misspelt word at most, while 500 characters of letter soup would ask for ~60.
SPELLING_LOOKUPS = 6


@dataclass(frozen=True)
class Query:
    """One query as every stage reads it: ranking, snippets, `why`, answers. Its words are split and stemmed once."""

    typed: str  # as the reader typed it (control characters and runs of whitespace folded)
    text: str  # what is searched: `typed` with misspelt words corrected, unless the reader asked for `exact`
    words: tuple[tuple[str, str], ...]  # the words BM25 matches in `text`, with their stems; one per stem, in order
    corrections: tuple[Correction, ...] = ()  # each word spelling changed, as typed and as searched

    @cached_property
    def terms(self) -> tuple[str, ...]:
        """The distinct stems, in order: what BM25 searches."""
        return tuple(stem for _, stem in self.words)

    @cached_property
    def stems(self) -> frozenset[str]:
        """The stems as a set, for counting what a text shares with the query."""
        return frozenset(self.terms)

    @property
    def corrected(self) -> str | None:
        """The searched text when spelling changed it, else None."""
        return self.text if self.text != self.typed else None


def read_query(live: Live, typed: str, exact: bool = False) -> Query:
    """Read a query against a version: its misspelt words corrected with the blog's own (unless `exact`).

    The model reads the corrected text too: a typo splits a word into pieces it cannot place.
    """
    if exact:
        return Query(typed, typed, query_words(typed))
    spelling = live.speller.correct(typed, SPELLING_LOOKUPS)
    return Query(typed, spelling.text, query_words(spelling.text), spelling.corrections)


def as_typed(text: str) -> Query:
    """A query searched exactly as written, with no version to correct it against (evaluation, tests)."""
    return Query(text, text, query_words(text))
