"""Spelling correction for queries: an unknown word becomes the closest frequent word of the index's own texts.

Readers mistype ("kubernnetes", "shardnig"); BM25 then finds nothing for that word and the model
reads it as noise. The dictionary is the blog itself, so its names ("PayPay", "OceanBase") are words
and nothing outside it is ever suggested. The edit distance is rapidfuzz's optimal string alignment
(a swap of two neighbouring letters is one edit, as SymSpell counts it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from index.records import Passage, PostMeta
from index.text import is_stopword, spellable_words, stem, word_counts

MIN_LETTERS = 5  # shorter words have too many neighbours one edit away ("hred": red, herd, shred)
TWO_EDITS_FROM = 9  # from this length a word can take two edits and still have one likely reading


def blog_words(posts: Collection[PostMeta], passages: Collection[Passage]) -> Counter[str]:
    """Every word the blog writes, as written, with its count: titles, descriptions, headings and passages."""
    headings = dict.fromkeys(p.heading for p in passages)  # each heading once, in order
    return word_counts([*(p.title for p in posts), *(p.description for p in posts), *headings,
                        *(p.text for p in passages)])


def word_ranks(counts: Counter[str]) -> dict[str, int]:
    """Each lower-case word's rank by count (1 = most used; ties in first-seen order).

    A store that keeps a bounded vocabulary keeps the words ranked up to its limit.
    """
    totals: Counter[str] = Counter()
    for word, n in counts.items():
        totals[word.lower()] += n
    return {word: rank for rank, (word, _) in enumerate(totals.most_common(), 1)}


def max_edits(word: str) -> int:
    """Edits a correction of this word may make: none below 5 letters, one up to 8, two from 9."""
    if len(word) < MIN_LETTERS:
        return 0
    return 2 if len(word) >= TWO_EDITS_FROM else 1


class Correction(NamedTuple):
    """One word of the query as typed and the word search used instead."""

    typed: str
    word: str


@dataclass(frozen=True)
class Spelling:
    """A query as typed and as searched: the same text with each corrected word replaced."""

    typed: str
    text: str
    corrections: tuple[Correction, ...] = ()

    @property
    def corrected(self) -> str | None:
        """The text searched, or None when nothing was corrected."""
        return self.text if self.corrections else None


class Speller:
    """Every word of an index's texts with its count; corrects the words of a query that the index does not know."""

    def __init__(self, counts: Counter[str], knows_stem: Callable[[str], bool],
                 real_words: Collection[str] = frozenset()) -> None:
        """Args:
            counts: the index's words as written (case kept) and how often.
            knows_stem: whether BM25 indexed a stem.
            real_words: lower-case words known to be spelt right though the blog never uses them ("writers"
                in a blog without it would otherwise become "writes"): never corrected.
        """
        self._knows_stem = knows_stem
        self._real_words = real_words
        self._count: Counter[str] = Counter()
        forms: dict[str, tuple[int, str]] = {}
        for word, n in counts.items():
            lower = word.lower()
            self._count[lower] += n
            if n > forms.get(lower, (0, ""))[0]:
                forms[lower] = (n, word)
        self._form = {lower: word for lower, (_, word) in forms.items()}  # the blog's usual spelling: "PayPay"
        by_length: defaultdict[int, list[str]] = defaultdict(list)
        for word in self._count:
            by_length[len(word)].append(word)
        self._by_length = dict(by_length)

    @classmethod
    def build(cls, texts: Iterable[str], knows_stem: Callable[[str], bool],
              real_words: Collection[str] = frozenset()) -> Speller:
        """A speller over the words of `texts` (an index's passages, headings and titles)."""
        return cls(word_counts(texts), knows_stem, real_words)

    def __len__(self) -> int:
        return len(self._count)

    def knows(self, word: str) -> bool:
        """Whether the index has this word, or its stem, or drops it as a stop word: then it is never corrected."""
        lower = word.lower()
        return (lower in self._count or is_stopword(lower) or lower in self._real_words
                or self._knows_stem(stem(lower)))

    def writes_as_name(self, word: str) -> bool:
        """Whether the blog usually writes this word capitalised ("PayPay", "Vietnam"), as a name."""
        form = self._form.get(word.lower(), "")
        return form[:1].isupper()

    def suggest(self, word: str) -> str | None:
        """The word to search instead of `word`, or None when it is known, too short, or has no close word.

        The fewest edits win; among as few, the word the blog uses most.
        """
        edits = max_edits(word)
        if not edits or self.knows(word):
            return None
        lower = word.lower()
        found: list[tuple[int, int, str]] = []
        for length in range(len(lower) - edits, len(lower) + edits + 1):
            pool = self._by_length.get(length)
            if pool:
                found += [(int(distance), -self._count[w], w) for w, distance, _ in
                          process.extract(lower, pool, scorer=OSA.distance, score_cutoff=edits, limit=None)]
        if not found:
            return None
        best = min(found)[2]
        if word.islower():
            return best
        if word.isupper() and len(word) > 1:
            return best.upper()
        form = self._form[best]  # typed with capitals: the blog's own spelling, capitalised at least
        return form[0].upper() + form[1:]

    def correct(self, text: str, max_lookups: int | None = None) -> Spelling:
        """The query with every unknown plain word corrected; numbers and code-like tokens are left as typed.

        Args: max_lookups: unknown words searched for a correction at most (each is a scan of the blog's
            words, about a millisecond); the ones after them are left as typed. None: all.
        """
        pieces: list[str] = []
        corrections: list[Correction] = []
        cursor = 0
        lookups = 0
        for start, end in spellable_words(text):
            typed = text[start:end]
            if not max_edits(typed) or self.knows(typed):
                continue
            lookups += 1
            if max_lookups is not None and lookups > max_lookups:
                break
            word = self.suggest(typed)
            if word is None:
                continue
            corrections.append(Correction(typed, word))
            pieces += [text[cursor:start], word]
            cursor = end
        if not corrections:
            return Spelling(text, text)
        return Spelling(text, "".join([*pieces, text[cursor:]]), tuple(corrections))
