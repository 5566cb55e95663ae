"""The index folder: versions, atomic publish, refusal of damaged versions, one writer at a time."""

from __future__ import annotations

import json
import shutil

import pytest

from index import (
    FolderStore,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexMissing,
)


def _version_dir(root):
    return FolderStore(root).path(FolderStore(root).published())


def test_open_index_returns_what_ingest_wrote(index_dir):
    version = FolderStore(index_dir).open()
    assert version.manifest.counts["passages"] == len(version.passages) == version.vectors.count
    assert version.manifest.model == "all-MiniLM-L6-v2" and version.manifest.dim == 384
    assert version.manifest.chunker["chunk_tokens"] == 180


def test_empty_folder_is_reported_as_missing(tmp_path):
    with pytest.raises(IndexMissing, match="no index published yet"):
        FolderStore(tmp_path).open()


def test_truncated_vectors_file_is_refused(index_copy):
    vectors = _version_dir(index_copy) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="vectors.faiss"):
        FolderStore(index_copy).open()


def test_damaged_database_is_refused(index_copy):
    database = _version_dir(index_copy) / "meta.sqlite"
    data = bytearray(database.read_bytes())
    data[0:16] = b"not a database!!"
    database.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="meta.sqlite"):
        FolderStore(index_copy).open()


def test_manifest_of_another_format_version_is_refused(index_copy):
    manifest = _version_dir(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 99
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatch, match="index format 99"):
        FolderStore(index_copy).open()


def test_manifest_of_an_unknown_precision_is_refused(index_copy):
    manifest = _version_dir(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["precision"] = "int4"
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatch, match="precision 'int4'; this Casebook runs fp32 or int8"):
        FolderStore(index_copy).open()


def test_manifest_disagreeing_with_the_vectors_is_refused(index_copy):
    manifest = _version_dir(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["counts"]["passages"] += 1
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatch, match="passages"):
        FolderStore(index_copy).open()


def test_unfinished_version_is_never_listed_or_published(index_copy):
    partial = FolderStore(index_copy).path(".tmp-20990101T000000Z-deadbeef")
    partial.mkdir()
    (partial / "vectors.faiss").write_bytes(b"half")
    assert FolderStore(index_copy).versions() == [FolderStore(index_copy).published()]
    with pytest.raises(IndexMissing), FolderStore(index_copy).lock() as writer:
        writer.publish(".tmp-20990101T000000Z-deadbeef")
    assert FolderStore(index_copy).open().manifest.version == FolderStore(index_copy).published()


def test_rollback_points_current_at_an_older_version(index_copy):
    first = FolderStore(index_copy).published()
    older = FolderStore(index_copy).path("20000101T000000Z-older")
    (FolderStore(index_copy).path(first)).rename(older)
    (FolderStore(index_copy).path(first)).mkdir()
    for f in older.iterdir():
        target = FolderStore(index_copy).path(first) / f.name
        target.symlink_to(f, target_is_directory=f.is_dir())
    with FolderStore(index_copy).lock() as writer:
        writer.publish("20000101T000000Z-older")
    assert FolderStore(index_copy).published() == "20000101T000000Z-older"
    assert FolderStore(index_copy).open().passages


def test_a_second_writer_fails_clearly_while_the_lock_is_held(tmp_path):
    with FolderStore(tmp_path).lock(), pytest.raises(IndexLocked, match="another ingest is writing"):
        with FolderStore(tmp_path).lock(0.3):
            pass


def test_ingest_keeps_one_copy_of_the_model_beside_the_versions(index_dir):
    model = FolderStore(index_dir).model_path("all-MiniLM-L6-v2")
    assert model == index_dir / "models" / "all-MiniLM-L6-v2"
    assert sorted(p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file()) == [
        "1_Pooling/config.json", "config.json", "model.onnx", "sentence_bert_config.json", "tokenizer.json"]


def test_export_lays_out_a_version_and_its_model_for_rollback_on_a_server(index_dir, tmp_path):
    version = FolderStore(index_dir).published()
    FolderStore(index_dir).export(version, tmp_path / "artifact")
    server = FolderStore(tmp_path / "artifact")
    assert server.versions() == [version] and server.published() is None
    assert server.model_path("all-MiniLM-L6-v2") is not None
    assert server.rollback(to=version) == (version, None)
    assert server.open().manifest.version == version


def test_prune_keeps_the_published_version_and_only_the_models_in_use(index_copy):
    store = FolderStore(index_copy)
    published = store.published()
    shutil.copytree(store.path(published), store.path("0-older"))
    shutil.copytree(store.model_path("all-MiniLM-L6-v2"), index_copy / "models" / "retired-model")
    store.prune(keep=1)
    assert store.versions() == [published]
    assert sorted(p.name for p in (index_copy / "models").iterdir()) == ["all-MiniLM-L6-v2"]


def test_a_writer_kept_past_its_lock_can_no_longer_publish(index_copy):
    store = FolderStore(index_copy)
    with store.lock() as writer:
        pass
    with pytest.raises(RuntimeError, match="lock was released"):
        writer.publish(str(store.published()))
