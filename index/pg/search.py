"""The two retrievers over PostgreSQL: pgvector for meaning, BM25 from stored postings for words.

Dense: the version's HNSW (or, past 50,000 passages, IVFFlat) index returns the nearest passages; under
a filter, pgvector 0.8's iterative scan keeps walking the graph (or scanning lists) until enough passages
pass the filter, and a narrow filter (a series, a tag) scans its few passages exactly instead. Lexical:
each stem's postings, as bm25s computed them at ingest, are read for the query's stems only (and kept
in a bounded cache) and summed exactly as the folder store sums them,
so both stores give the same BM25 hits, scores and coverage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from index.cache import Lru
from index.lexical import Postings, rows_holding, top_bm25
from index.pg.codec import Embedding, FullVector
from index.pg.db import Database
from index.records import Hit
from index.scope import PassageRanges, PassageWithin, scans_exactly
from index.text import query_terms

# The best this many of the index's candidates (hnsw.ef_search, 400, or the passages of 20 IVFFlat lists) are scored
# again exactly and the best kept: the index returns its candidates best first, and reading fewer rows is most of a
# query's time.
CANDIDATES = 100
POSTINGS_CACHE_BYTES = 64 * 2**20
FREQUENCY_CACHE = 16_384
_EMPTY = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class PgDense:
    """Nearest passages by inner product (cosine: the vectors are unit length)."""

    def __init__(self, db: Database, schema: str, count: int) -> None:
        self._db, self._s, self._count = db, schema, count

    @property
    def count(self) -> int:
        """Number of passages."""
        return self._count

    def prepare(self) -> None:
        """Nothing to build: the index lives in the database."""

    def search(self, vector: np.ndarray, k: int, within: PassageWithin | None = None) -> list[Hit]:
        """The k passages closest to `vector`, best first, restricted to `within` when given."""
        if self._count == 0 or k <= 0:
            return []
        vector = np.asarray(vector, dtype=np.float32)
        q, exact = Embedding(vector), FullVector(vector)
        s = self._s
        # Scores are the stored vectors (as float32) times the float32 query, as the folder store's scan
        # computes them, and equal scores come later passage first, as FAISS orders them; the graph is
        # walked with the query in the column's type.
        score = "embedding::vector <#> %(exact)s"
        if within is None:
            sql = (f"SELECT id, {score} AS d FROM (SELECT id, embedding FROM {s}.passages "
                   f"ORDER BY embedding <#> %(q)s LIMIT %(n)s) hits ORDER BY d, id DESC LIMIT %(k)s")
            rows = self._db.rows(sql, {"q": q, "exact": exact, "k": k, "n": max(k, CANDIDATES)})
        elif isinstance(within, PassageRanges) and within.count >= self._count:  # a filter every post passes
            return self.search(vector, k)
        elif isinstance(within, PassageRanges):
            if within.count == 0:
                return []
            params = {"q": q, "exact": exact, "k": k, "n": max(k, CANDIDATES), "rows": within.rows.tolist()}
            if scans_exactly(within.count, self._count):
                # Materialised, so the planner cannot use the approximate index for a few thousand passages.
                sql = (f"WITH scope AS MATERIALIZED (SELECT id, embedding FROM {s}.passages "
                       f"WHERE post_row = ANY(%(rows)s)) SELECT id, {score} AS d FROM scope "
                       f"ORDER BY d, id DESC LIMIT %(k)s")
            else:
                # The iterative scan walks on until enough candidates pass the filter (relaxed order: sorted after).
                sql = (f"SELECT id, {score} AS d FROM (SELECT id, embedding FROM {s}.passages "
                       f"WHERE post_row = ANY(%(rows)s) ORDER BY embedding <#> %(q)s LIMIT %(n)s) hits "
                       f"ORDER BY d, id DESC LIMIT %(k)s")
            rows = self._db.rows(sql, params)
        else:
            ids = sorted(int(i) for i in within)
            if not ids:
                return []
            sql = (f"WITH scope AS MATERIALIZED (SELECT id, embedding FROM {s}.passages WHERE id = ANY(%(ids)s)) "
                   f"SELECT id, {score} AS d FROM scope ORDER BY d, id DESC LIMIT %(k)s")
            rows = self._db.rows(sql, {"exact": exact, "k": k, "ids": ids})
        return [Hit(int(i), -float(d)) for i, d in rows]

    def all_vectors(self) -> np.ndarray:
        """Every vector in id order (the author tools and incremental ingest read them all)."""
        rows = self._db.rows(f"SELECT embedding FROM {self._s}.passages ORDER BY id", binary=True)
        return np.vstack([r[0] for r in rows]) if rows else np.zeros((0, 0), dtype=np.float32)


class PgTerms:
    """BM25 over passages (field 0) or whole posts (field 1, ids are post rows), from stored postings."""

    def __init__(self, db: Database, schema: str, field: int, count: int) -> None:
        self._db, self._s, self._field, self.count = db, schema, field, count
        self._postings: Lru[str, Postings] = Lru(POSTINGS_CACHE_BYTES, weigh=lambda p: p[0].nbytes + p[1].nbytes + 100)
        self._frequency: Lru[str, int] = Lru(FREQUENCY_CACHE)

    def _load_postings(self, stems: list[str]) -> dict[str, Postings]:
        rows = self._db.rows(f"SELECT term, rows, scores FROM {self._s}.terms WHERE field = %s AND term = ANY(%s)",
                             (self._field, stems))
        found = {stem: _EMPTY for stem in stems}
        for term, ids, scores in rows:
            found[term] = (np.frombuffer(ids, dtype="<i4"), np.frombuffer(scores, dtype="<f4"))
        return found

    def postings(self, stems: Sequence[str]) -> list[Postings]:
        """Each stem's rows (ascending) and BM25 scores; empty for a stem no text holds."""
        if not self.count:
            return [_EMPTY] * len(stems)
        found = self._postings.fetch(stems, self._load_postings)
        return [found[stem] for stem in stems]

    def document_frequency(self, stems: Iterable[str]) -> dict[str, int]:
        """How many passages (or posts) contain each stem (0 for a stem it never saw)."""
        stems = list(stems)

        def load(missing: list[str]) -> dict[str, int]:
            found = dict.fromkeys(missing, 0)
            found.update(self._db.rows(f"SELECT term, df FROM {self._s}.terms WHERE field = %s AND term = ANY(%s)",
                                       (self._field, missing)))
            return found

        found = self._frequency.fetch(stems, load) if self.count else {}
        return {stem: int(found.get(stem, 0)) for stem in stems}

    def knows(self, stem: str) -> bool:
        """Whether any indexed text holds this stem."""
        return self.document_frequency([stem])[stem] > 0

    def holding(self, stems: Sequence[str], rows: Sequence[int]) -> list[set[str]]:
        """For each row, which of `stems` its indexed text holds, read off the posting lists."""
        return rows_holding(stems, self.postings(list(stems)), rows)

    def search(self, query: str, k: int, within: PassageWithin | None = None) -> list[Hit]:
        """Up to k rows with a positive BM25 score, best first, with their query coverage."""
        return self.search_terms(dict.fromkeys(query_terms(query), 1.0), k, within)

    def search_terms(self, terms: Mapping[str, float], k: int, within: PassageWithin | None = None) -> list[Hit]:
        """BM25 for weighted stems from their stored postings, summed as the folder store sums them (`top_bm25`)."""
        return top_bm25(terms, self.postings(list(terms)), self.count, k, within)


