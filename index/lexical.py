"""Lexical search: BM25 over passages with bm25s, stemmed, so exact terms like `RZone` are never lost."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.records import Hit
from index.scope import PassageWithin, keeps
from index.text import idf, query_terms, tokenize

Postings = tuple[np.ndarray, np.ndarray]  # a stem's rows (ascending) and its BM25 score in each
# Postings are summed into an array as long as the index when they cover at least an eighth of it (fastest
# for common words); fewer are summed over the rows they hold only, which a large index needs.
DENSE_SUM_SHARE = 8
FLOOR_SAMPLE = 16  # `best_rows` samples about 16 scores per wanted row to find a floor

_EMPTY_ROWS, _EMPTY_SCORES = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


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
        bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        if bm25.nonoccurrence_array is not None:  # BM25L and BM25+ add a score for absent terms
            raise ValueError(f"{folder}: BM25 variant {bm25.method!r} is not supported; Casebook builds 'lucene'")
        return cls(bm25, count)

    def save(self, folder: Path) -> None:
        """Write the index files into a folder."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.count:
            self._bm25.save(str(folder), show_progress=False)

    def knows(self, stem: str) -> bool:
        """Whether any indexed text holds this stem: what spelling correction leaves alone."""
        return bool(self.count) and stem in self._bm25.vocab_dict

    def holding(self, stems: Sequence[str], rows: Sequence[int]) -> list[set[str]]:
        """For each row, which of `stems` its indexed text holds, read off the posting lists (no text re-read)."""
        return rows_holding(stems, self._postings(list(stems)), rows)

    def document_frequency(self, stems: Iterable[str]) -> dict[str, int]:
        """How many passages contain each stem, read off the index (0 for a stem it never saw)."""
        stems = list(stems)
        return {stem: len(rows) for stem, (rows, _) in zip(stems, self._postings(stems), strict=True)}

    def postings(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Every stem with its rows (ascending) and BM25 scores: what a database store keeps per stem."""
        if not self.count:
            return
        matrix = self._bm25.scores
        starts, rows, scores = matrix["indptr"], matrix["indices"], matrix["data"]
        for stem, t in self._bm25.vocab_dict.items():
            if t + 1 < len(starts):
                yield stem, rows[starts[t]:starts[t + 1]], scores[starts[t]:starts[t + 1]]

    def _postings(self, stems: list[str] | tuple[str, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each stem's posting list: the passages containing it and their BM25 scores for it.

        bm25s stores the scores eagerly as a sparse matrix with one column per token; reading the
        columns directly costs a slice per term where `get_scores` fills a dense array per term.
        """
        if not self.count:
            return [(_EMPTY_ROWS, _EMPTY_SCORES)] * len(stems)
        vocabulary, matrix = self._bm25.vocab_dict, self._bm25.scores
        starts, rows, scores = matrix["indptr"], matrix["indices"], matrix["data"]
        found = []
        for stem in stems:
            t = vocabulary.get(stem)
            if t is None or t + 1 >= len(starts):
                found.append((_EMPTY_ROWS, _EMPTY_SCORES))
            else:
                found.append((rows[starts[t] : starts[t + 1]], scores[starts[t] : starts[t + 1]]))
        return found

    def search(self, query: str, k: int, within: PassageWithin | None = None) -> list[Hit]:
        """Return up to k passages with a positive BM25 score, best first, with their query coverage."""
        return self.search_terms(dict.fromkeys(query_terms(query), 1.0), k, within)

    def search_terms(self, terms: Mapping[str, float], k: int, within: PassageWithin | None = None) -> list[Hit]:
        """BM25 for weighted stems: each term's score counts `weight` times (a query's own terms weigh 1)."""
        return top_bm25(terms, self._postings(list(terms)), self.count, k, within)


def rows_holding(stems: Sequence[str], postings: Sequence[Postings], rows: Sequence[int]) -> list[set[str]]:
    """For each of `rows`, which of `stems` it holds, given each stem's postings (rows ascending)."""
    found: list[set[str]] = [set() for _ in rows]
    wanted = np.asarray(rows, dtype=np.int64)
    for stem, (posting, _) in zip(stems, postings, strict=True):
        if not len(posting):
            continue
        at = np.minimum(np.searchsorted(posting, wanted), len(posting) - 1)
        for i in np.flatnonzero(posting[at] == wanted).tolist():
            found[i].add(stem)
    return found


def top_bm25(terms: Mapping[str, float], postings: Sequence[Postings], count: int, k: int,
             within: PassageWithin | None = None) -> list[Hit]:
    """The k best of `count` rows by BM25 for weighted stems, from each stem's postings (in `terms` order), with
    their query coverage; every store sums the same postings in the same order, so they rank alike.

    Common words are summed into an array as long as the index; rare ones over the rows that hold them only
    (the sums are the same either way, and equal scores go to the lower row).
    """
    frequency = np.array([len(r) for r, _ in postings])
    if not frequency.any():  # no query term known, or only stop words ("*", "how")
        return []
    weights = np.array(list(terms.values()))
    rows = np.concatenate([r for r, _ in postings])
    per_entry = np.concatenate([s * w if w != 1.0 else s for (_, s), w in zip(postings, weights, strict=True)])
    if within is not None:  # a row's entries are kept or dropped together, so kept rows sum as without a filter
        kept = keeps(within, rows)
        rows, per_entry = rows[kept], per_entry[kept]
    ids: np.ndarray | None = None
    if len(rows) * DENSE_SUM_SHARE >= count:
        scores = np.bincount(rows, weights=per_entry, minlength=count)
    else:
        ids, inverse = np.unique(rows, return_inverse=True)
        scores = np.bincount(inverse, weights=per_entry, minlength=len(ids))
    top = best_rows(scores, k)
    if not len(top):
        return []
    found = top if ids is None else ids[top]
    # Coverage: the share of the query's term weight (idf) a passage matches. One shared common
    # word is a weak lexical hit, however high it ranks among other weak hits.
    coverage = matched_weight(weights * idf(count, frequency), postings, found)
    return [Hit(*hit) for hit in zip(found.tolist(), scores[top].tolist(), coverage.tolist(), strict=True)]


def best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The positions of the k highest positive scores, best first; equal scores in position order.

    Only scores at or above a floor are sorted: the k-th best of an evenly spaced sample can only be lower
    than the k-th best of all, and passes a few thousand rows where a common word gives half a million a score.
    """
    if k <= 0:
        return _EMPTY_ROWS
    floor = 0.0
    step = len(scores) // (FLOOR_SAMPLE * k)
    if step >= 2:
        sample = scores[::step]
        floor = float(np.partition(sample, len(sample) - k)[len(sample) - k])
    candidates = np.flatnonzero(scores >= floor) if floor > 0 else np.flatnonzero(scores > 0)
    if len(candidates) > k:
        kth = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
        candidates = candidates[scores[candidates] >= kth]
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    top: np.ndarray = candidates[order]
    return top


def matched_weight(weights: np.ndarray, postings: Sequence[Postings], rows: np.ndarray) -> np.ndarray:
    """For each of `rows`, the sum of the weights of the terms whose postings hold it, over the sum of all."""
    matched = np.zeros(len(rows))
    for weight, (posting, _) in zip(weights.tolist(), postings, strict=True):
        if len(posting):
            at = np.minimum(np.searchsorted(posting, rows), len(posting) - 1)
            matched += np.where(posting[at] == rows, weight, 0.0)
    share: np.ndarray = matched / weights.sum()
    return share
