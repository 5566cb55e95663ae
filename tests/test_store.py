"""The index folder: versions, atomic publish, refusal of damaged versions, one writer at a time."""

from __future__ import annotations

import json

import pytest

from index import (
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexMissing,
    current_version,
    list_versions,
    open_index,
    set_current,
    write_lock,
)


def _version_dir(root):
    return root / "versions" / current_version(root)


def test_open_index_returns_what_ingest_wrote(index_dir):
    version = open_index(index_dir)
    assert version.manifest.counts["passages"] == len(version.passages) == version.vectors.count
    assert version.manifest.model == "all-MiniLM-L6-v2" and version.manifest.dim == 384
    assert version.manifest.chunker["chunk_tokens"] == 180


def test_empty_folder_is_reported_as_missing(tmp_path):
    with pytest.raises(IndexMissing, match="no index published yet"):
        open_index(tmp_path)


def test_truncated_vectors_file_is_refused(index_copy):
    vectors = _version_dir(index_copy) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="vectors.faiss"):
        open_index(index_copy)


def test_damaged_database_is_refused(index_copy):
    database = _version_dir(index_copy) / "meta.sqlite"
    data = bytearray(database.read_bytes())
    data[0:16] = b"not a database!!"
    database.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="meta.sqlite"):
        open_index(index_copy)


def test_manifest_of_another_format_version_is_refused(index_copy):
    manifest = _version_dir(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 99
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatch, match="index format 99"):
        open_index(index_copy)


def test_manifest_disagreeing_with_the_vectors_is_refused(index_copy):
    manifest = _version_dir(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["counts"]["passages"] += 1
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatch, match="passages"):
        open_index(index_copy)


def test_unfinished_version_is_never_listed_or_published(index_copy):
    partial = index_copy / "versions" / ".tmp-20990101T000000Z-deadbeef"
    partial.mkdir()
    (partial / "vectors.faiss").write_bytes(b"half")
    assert list_versions(index_copy) == [current_version(index_copy)]
    with pytest.raises(IndexMissing):
        set_current(index_copy, ".tmp-20990101T000000Z-deadbeef")
    assert open_index(index_copy).manifest.version == current_version(index_copy)


def test_rollback_points_current_at_an_older_version(index_copy):
    first = current_version(index_copy)
    older = index_copy / "versions" / "20000101T000000Z-older"
    (index_copy / "versions" / first).rename(older)
    (index_copy / "versions" / first).mkdir()
    for f in older.iterdir():
        target = index_copy / "versions" / first / f.name
        target.symlink_to(f, target_is_directory=f.is_dir())
    set_current(index_copy, "20000101T000000Z-older")
    assert current_version(index_copy) == "20000101T000000Z-older"
    assert open_index(index_copy).passages


def test_a_second_writer_fails_clearly_while_the_lock_is_held(tmp_path):
    with write_lock(tmp_path), pytest.raises(IndexLocked, match="another ingest is writing"):
        with write_lock(tmp_path, wait_seconds=0.3):
            pass
