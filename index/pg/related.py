"""Related posts' evidence from SQL: one aggregate over the candidates, no corpus in the process.

The source's evidence passages are matched against every candidate's in the database (the best
cosine of each candidate passage, averaged per candidate: the "passages" signal), and the name and
description overlaps are summed from the per-post features and idf weights written with the version
(`index/features.py`). Only one row per candidate comes back.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from index.features import RelatedInputs, post_names, post_stems
from index.pg.db import Database
from index.records import Passage, PostMeta, SeriesMeta

_INPUTS = """
WITH source AS MATERIALIZED (SELECT embedding FROM {s}.passages WHERE post_row = %(row)s AND evidence),
coverage AS (
    SELECT c.post_row, avg(best.cosine) AS coverage
    FROM {s}.passages c
    CROSS JOIN LATERAL (SELECT max(-(c.embedding <#> source.embedding)) AS cosine FROM source) best
    WHERE c.evidence AND c.post_row IN (SELECT row FROM {s}.posts WHERE candidate)
    GROUP BY c.post_row),
names AS (SELECT word, idf FROM {s}.weights WHERE kind = 'n' AND word = ANY(%(names)s)),
stems AS (SELECT word, idf FROM {s}.weights WHERE kind = 's' AND word = ANY(%(stems)s))
SELECT p.path, coalesce(c.coverage, 0),
       coalesce((SELECT sum(n.idf) FROM names n WHERE n.word = ANY(p.names)), 0), p.name_weight,
       coalesce((SELECT sum(t.idf) FROM stems t WHERE t.word = ANY(p.about)), 0), p.about_weight,
       p.inbound, p.day, (SELECT coalesce(sum(idf), 0) FROM names)
FROM {s}.posts p LEFT JOIN coverage c ON c.post_row = p.row
WHERE p.candidate
"""


def inputs(db: Database, schema: str, row: int, source: PostMeta,
           series: Mapping[str, SeriesMeta]) -> RelatedInputs:
    """The source's evidence about every candidate, candidates sorted by path as the in-memory space sorts them."""
    text = " ".join(r[0] for r in db.rows(f"SELECT text FROM {schema}.passages WHERE post_row = %s AND evidence "
                                          "ORDER BY id", (row,)))
    links = db.rows(f"SELECT links FROM {schema}.posts WHERE row = %s", (row,))
    rows = db.rows(_INPUTS.format(s=schema), {"row": row, "names": sorted(post_names(source, text)),
                                              "stems": sorted(post_stems(source, text))})
    rows.sort(key=lambda r: r[0])
    paths = [r[0] for r in rows]
    table = np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 8)
    candidates = set(paths)
    return RelatedInputs(
        paths=paths, coverage=table[:, 0], shared_names=table[:, 1], name_weight=table[:, 2],
        source_name_weight=float(table[0, 7]) if len(table) else 0.0, said=table[:, 3], promised=table[:, 4],
        inbound=table[:, 5], days=table[:, 6],
        parts={slug: [p for p in series[slug].posts if p in candidates] for slug in source.series if slug in series},
        links=frozenset(links[0][0] if links else ()))


def evidence(db: Database, schema: str, rows: Mapping[int, str]) -> dict[str, tuple[tuple[Passage, ...], np.ndarray]]:
    """The related-posts evidence passages of a few posts (by row), with their vectors, in id order."""
    found: dict[str, tuple[list[Passage], list[np.ndarray]]] = {path: ([], []) for path in rows.values()}
    for row, pid, heading, anchor, text, kind, n_tokens, vector in db.rows(
            f"SELECT post_row, id, heading, anchor, text, kind, n_tokens, embedding FROM {schema}.passages "
            "WHERE post_row = ANY(%s) AND evidence ORDER BY id", (list(rows),), binary=True):
        passages, vectors = found[rows[row]]
        passages.append(Passage(pid, rows[row], heading, anchor, text, kind, n_tokens))
        vectors.append(vector)
    return {path: (tuple(passages), np.vstack(vectors) if vectors else np.zeros((0, 0), np.float32))
            for path, (passages, vectors) in found.items()}
