"""Related posts' evidence from SQL: one aggregate over the candidates, no corpus in the process.

The source's evidence passages are matched against every candidate's in the database (the best
cosine of each candidate passage, averaged per candidate: the "passages" signal, and its maximum),
the name and description overlaps are summed from the per-post features and idf weights written with
the version (`index/features.py`), and the links of the other articles of the source's section are
counted from the posts' `links` as `index.features.LinkGraph` counts them. Only one row per
candidate comes back.
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
    SELECT c.post_row, avg(best.cosine) AS coverage, max(best.cosine) AS best
    FROM {s}.passages c
    CROSS JOIN LATERAL (SELECT max(-(c.embedding <#> source.embedding)) AS cosine FROM source) best
    WHERE c.evidence AND c.post_row IN (SELECT row FROM {s}.posts WHERE candidate)
    GROUP BY c.post_row),
names AS (SELECT word, idf FROM {s}.weights WHERE kind = 'n' AND word = ANY(%(names)s)),
stems AS (SELECT word, idf FROM {s}.weights WHERE kind = 's' AND word = ANY(%(stems)s)),
cited AS MATERIALIZED (  -- links between articles from the source's peers: its section's, its series' parts
    SELECT t.row, t.section, a.section = %(section)s AS peer, a.series && %(series)s::text[] AS sibling,
           NOT (t.series && a.series) AS crossing
    FROM {s}.posts a CROSS JOIN unnest(a.links) AS l(path) JOIN {s}.posts t ON t.path = l.path
    WHERE a.candidate AND a.row <> %(row)s AND (a.section = %(section)s OR a.series && %(series)s::text[])
      AND t.candidate AND t.row <> a.row),
crossed AS (SELECT section, count(*)::float8 / sum(count(*)) OVER () AS share FROM cited WHERE peer AND crossing
            GROUP BY section),
shares AS (  -- no peer link leaves its series: the links are taken to spread like the articles (as LinkGraph)
    SELECT section, share FROM crossed
    UNION ALL
    SELECT section, count(*)::float8 / sum(count(*)) OVER () FROM {s}.posts
    WHERE candidate AND NOT EXISTS (SELECT 1 FROM crossed) GROUP BY section)
SELECT p.path, coalesce(c.coverage, 0),
       coalesce((SELECT sum(n.idf) FROM names n WHERE n.word = ANY(p.names)), 0), p.name_weight,
       coalesce((SELECT sum(t.idf) FROM stems t WHERE t.word = ANY(p.about)), 0), p.about_weight,
       p.inbound, p.day, (SELECT coalesce(sum(idf), 0) FROM names), coalesce(c.best, 0),
       (SELECT count(*) FILTER (WHERE x.peer) FROM cited x WHERE x.row = p.row),
       coalesce((SELECT share FROM shares x WHERE x.section = p.section), 0),
       (SELECT count(*) FILTER (WHERE x.sibling) FROM cited x WHERE x.row = p.row)
FROM {s}.posts p LEFT JOIN coverage c ON c.post_row = p.row
WHERE p.candidate
"""


def inputs(db: Database, schema: str, row: int, source: PostMeta,
           series: Mapping[str, SeriesMeta]) -> RelatedInputs:
    """The source's evidence about every candidate, candidates sorted by path as the in-memory space sorts them."""
    text = " ".join(r[0] for r in db.rows(f"SELECT text FROM {schema}.passages WHERE post_row = %s AND evidence "
                                          "ORDER BY id", (row,)))
    links = db.rows(f"SELECT links FROM {schema}.posts WHERE row = %s", (row,))
    rows = db.rows(_INPUTS.format(s=schema), {"row": row, "section": source.section, "series": list(source.series),
                                              "names": sorted(post_names(source, text)),
                                              "stems": sorted(post_stems(source, text))})
    rows.sort(key=lambda r: r[0])
    paths = [r[0] for r in rows]
    table = np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 12)
    candidates = set(paths)
    return RelatedInputs(
        paths=paths, coverage=table[:, 0], best=table[:, 8], shared_names=table[:, 1], name_weight=table[:, 2],
        source_name_weight=float(table[0, 7]) if len(table) else 0.0, said=table[:, 3], promised=table[:, 4],
        inbound=table[:, 5], days=table[:, 6], section_inbound=table[:, 9], section_share=table[:, 10],
        series_inbound=table[:, 11],
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
