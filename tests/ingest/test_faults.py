"""Faults: ingest killed mid-way, two ingests at once, damaged versions published, a switch under load."""

from __future__ import annotations

import json
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index import FolderStore
from ingest.pipeline import run_ingest
from ingest.settings import IngestSettings
from service.http.app import create_app
from service.settings import ServiceSettings
from tests.helpers import ROOT, Traffic, content_with, serving, wait_until

# A child ingest, through the real CLI, that prints a marker at one named point and then sleeps until killed.
# Except at "embed", vectors come from a hashing stand-in: these tests are about files and locks, not meaning.
DRIVER = r"""
import sys, time
from index import embedder, folder
from ingest import cli, pipeline
from tests.stand_ins import HashEmbedder

point, content, index, *extra = sys.argv[1:]

def stop_here(module, name, before=True, seconds=60.0):
    real = getattr(module, name)
    def hooked(*args, **kwargs):
        if not before:
            result = real(*args, **kwargs)
        print(point, flush=True)
        time.sleep(seconds)
        return real(*args, **kwargs) if before else result
    setattr(module, name, hooked)

if point == "embed":  # embed every passage afresh, so the kill lands inside the real model's forward passes
    folder.FolderStore.reusable_vectors = lambda self, model, precision: {}
    extra = ["0"]
else:
    pipeline.Embedder = lambda model, runtime, exported=None: HashEmbedder()
hooks = {
    "embed": (embedder.Embedder, "encode", True),
    "metadata": (folder, "write_metadata", False),         # temp folder holds meta.sqlite only
    "manifest": (folder, "fsync_tree", True),              # temp folder complete, not yet renamed
    "renamed": (folder.FolderWriter, "publish", True),     # version folder complete, CURRENT still old
    "switched": (folder.FolderStore, "_prune", True),      # CURRENT switched, old versions not pruned
}
if point in hooks:
    stop_here(*hooks[point], seconds=float(extra[0]) if extra else 60.0)
sys.exit(cli.main(["-c", content, "-i", index, "-q", *extra[1:]]))
"""


def _start(point: str, content: Path, index: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", DRIVER, point, str(content), str(index), *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_marker(child: subprocess.Popen[str], marker: str, timeout: float = 60) -> None:
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    line = child.stdout.readline() if ready else ""
    if line.strip() != marker:
        child.kill()
        raise AssertionError(f"child never reached {marker!r}: {line!r} {child.communicate()[1][-2000:]}")


def _served(client: TestClient) -> str:
    return str(client.get("/readyz").json()["version"])


@pytest.mark.parametrize("point", ["embed", "metadata", "manifest", "renamed", "switched"])
def test_ingest_killed_at_any_point_leaves_a_serving_index_and_the_next_ingest_succeeds(
        point, index_copy, tmp_path, embedder):
    old = FolderStore(index_copy).published()
    with TestClient(create_app(ServiceSettings(index_dir=index_copy, reload_seconds=0.1))) as client:
        child = _start(point, content_with(tmp_path, "killed", "killed-drill"), index_copy)
        _wait_for_marker(child, point)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        published = FolderStore(index_copy).published()
        assert (published != old) if point == "switched" else (published == old)
        wait_until(lambda: _served(client) == published)
        assert client.get("/api/search", params={"q": "ledger entries"}).status_code == 200
        assert FolderStore(index_copy).open().manifest.version == published
        assert all(not v.startswith(".") for v in FolderStore(index_copy).versions())

        report = run_ingest(IngestSettings(content_dir=content_with(tmp_path, "next", "next-drill"),
                                           index_dir=index_copy), embedder=embedder)
        assert not report.up_to_date and FolderStore(index_copy).published() == report.version
        assert not list((index_copy / "versions").glob(".tmp-*"))  # the killed run's leftovers are gone
        wait_until(lambda: _served(client) == report.version)
        body = client.get("/api/search", params={"q": "quokka wranglers"}).json()
        assert body["posts"][0]["path"] == "posts/next-drill.md"


def test_a_second_ingest_fails_clearly_while_one_is_writing(index_copy, tmp_path):
    first = _start("metadata", content_with(tmp_path, "a", "first-writer"), index_copy)
    _wait_for_marker(first, "metadata")
    second = _start("none", content_with(tmp_path, "b", "second-writer"), index_copy)
    try:
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2 and "another ingest is writing this index" in err
    finally:
        first.kill()
        first.wait(timeout=10)


def test_a_second_ingest_with_wait_runs_after_the_first_and_never_mixes(index_copy, tmp_path):
    first = _start("metadata", content_with(tmp_path, "a", "first-writer"), index_copy, "1.5")
    _wait_for_marker(first, "metadata")
    second = _start("none", content_with(tmp_path, "b", "second-writer"), index_copy, "0", "--wait", "60")
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0
    version = FolderStore(index_copy).open()  # counts of manifest, database and vectors agree
    assert "posts/second-writer.md" in version.posts and "posts/first-writer.md" not in version.posts
    assert len(FolderStore(index_copy).versions()) == 3


def _damage(version: Path, how: str) -> None:
    manifest = json.loads((version / "manifest.json").read_text())
    if how == "truncated vectors":
        (version / "vectors.faiss").write_bytes((version / "vectors.faiss").read_bytes()[:100])
    elif how == "damaged database":
        data = (version / "meta.sqlite").read_bytes()
        (version / "meta.sqlite").write_bytes(b"not a database!!" + data[16:])
    elif how == "missing lexical index":
        shutil.rmtree(version / "bm25")
    elif how == "manifest not json":
        (version / "manifest.json").write_text("{ half a manifest")
    else:
        manifest.update({"another model": {"model": "no-such/model-v9"},
                         "another format": {"format_version": 99},
                         "another dimension": {"dim": 768}}[how])
        (version / "manifest.json").write_text(json.dumps(manifest))


DAMAGE = ["truncated vectors", "damaged database", "missing lexical index", "manifest not json",
          "another model", "another format", "another dimension"]


def _publish_damaged(root: Path, how: str) -> str:
    bad = "29990101T000000000000Z-damaged"
    shutil.copytree(FolderStore(root).path(str(FolderStore(root).published())), FolderStore(root).path(bad))
    _damage(FolderStore(root).path(bad), how)
    with FolderStore(root).lock() as writer:
        writer.publish(bad)
    return bad


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_version_is_refused_with_a_log_line_and_the_old_one_keeps_serving(how, index_copy, caplog):
    old = FolderStore(index_copy).published()
    token = "admin-token-for-the-metrics-0123456789"
    with TestClient(create_app(ServiceSettings(index_dir=index_copy, reload_seconds=0.1, admin_token=token))) as client:
        bad = _publish_damaged(index_copy, how)
        wait_until(lambda: bad in (client.get("/readyz").json()["detail"] or ""))
        ready = client.get("/readyz").json()
        assert ready["ready"] is True and ready["version"] == old
        assert client.get("/api/search", params={"q": "ledger"}).status_code == 200
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
        assert "casebook_index_refused_total 1.0" in metrics
        assert str(index_copy) not in client.get("/readyz").text  # the reason, with its paths, is in the log
        refusals = [r.getMessage() for r in caplog.records
                    if r.name == "casebook.index" and r.levelname == "ERROR"]
        assert refusals == [refusals[0]] and refusals[0].startswith(f"refusing index version {bad}: ")


@pytest.mark.parametrize("how", ["truncated vectors", "another model"])
def test_start_up_with_no_valid_version_is_not_ready_instead_of_crashing(how, index_copy):
    bad = _publish_damaged(index_copy, how)
    for old in FolderStore(index_copy).versions():
        if old != bad:
            shutil.rmtree(FolderStore(index_copy).path(old))
    with TestClient(create_app(ServiceSettings(index_dir=index_copy))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and bad in ready.json()["detail"]
        assert client.get("/api/search", params={"q": "ledger"}).status_code == 503
        assert client.get("/healthz").status_code == 200


def test_start_up_with_a_damaged_published_version_serves_the_newest_older_one(index_copy):
    old = FolderStore(index_copy).published()
    bad = _publish_damaged(index_copy, "damaged database")
    with TestClient(create_app(ServiceSettings(index_dir=index_copy))) as client:
        ready = client.get("/readyz").json()
        assert ready["version"] == old and f"published version {bad} was refused" in ready["detail"]


def test_switching_versions_under_load_fails_no_request(index_copy, tmp_path, embedder):
    old = FolderStore(index_copy).published()
    paths = ["/api/search?q=ledger+entries", "/api/search?q=consumer+lag&k=3", "/api/series", "/readyz",
             "/api/posts/series/lighthouse/part-2-idempotency-keys.md"]
    with serving(create_app(ServiceSettings(index_dir=index_copy, reload_seconds=0.1))) as base:

        def served() -> str:
            return str(httpx.get(base + "/readyz").json()["version"])

        with Traffic([base], paths, threads_per_base=4) as traffic:
            time.sleep(0.5)
            content = content_with(tmp_path, "c", "load-drill")
            new = run_ingest(IngestSettings(content_dir=content, index_dir=index_copy), embedder=embedder).version
            wait_until(lambda: served() == new)
            FolderStore(index_copy).rollback(old)  # and straight back, as `casebook index rollback` does
            wait_until(lambda: served() == old)
            time.sleep(0.3)
    assert traffic.failures == [] and traffic.done > 50
