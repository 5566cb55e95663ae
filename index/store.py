"""The index folder: versions written beside each other, published by one atomic pointer switch.

    <root>/versions/<version>/   manifest.json  meta.sqlite  vectors.faiss  bm25/  bm25-posts/
    <root>/CURRENT               the published version's id (replaced atomically)
    <root>/.lock                 held by the one ingest allowed to write
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexMissing
from index.lexical import LexicalSearch
from index.manifest import Manifest
from index.metadata import read_embed_keys, read_metadata, write_metadata
from index.records import Passage, PostMeta, SeriesMeta
from index.vectors import VectorSearch, build_vectors

KEEP_VERSIONS = 5


@dataclass(frozen=True)
class IndexBuild:
    """Everything one ingest produced, ready to be written as a version."""

    manifest: Manifest
    posts: list[PostMeta]
    series: list[SeriesMeta]
    passages: list[Passage]
    embed_keys: list[str]  # per passage: hash of model + embedded text, so the next ingest can reuse it
    vectors: np.ndarray
    lexical_texts: list[str]  # per passage: what BM25 indexes
    post_texts: list[str]  # per post, in `posts` order: the whole post, for post-level BM25
    skipped: list[tuple[str, int | None, str]]


@dataclass(frozen=True)
class IndexVersion:
    """One opened, validated version: records in memory, dense and lexical search ready."""

    path: Path
    manifest: Manifest
    posts: dict[str, PostMeta]
    series: dict[str, SeriesMeta]
    passages: list[Passage]
    vectors: VectorSearch
    lexical: LexicalSearch
    post_lexical: LexicalSearch  # BM25 over whole posts; row i is post_order[i]
    post_order: list[str]


@contextmanager
def write_lock(root: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the folder's write lock; a second ingest waits up to `wait_seconds`, then fails clearly."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(f"{root}: another ingest is writing this index; try again later") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(root: Path, build: IndexBuild) -> Path:
    """Write a new version beside the others and switch CURRENT to it; call under `write_lock`."""
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    _remove_partial_versions(versions)
    final = versions / build.manifest.version
    tmp = versions / f".tmp-{build.manifest.version}"
    tmp.mkdir()
    write_metadata(tmp / "meta.sqlite", build.posts, build.series, build.passages, build.embed_keys, build.skipped)
    VectorSearch(build_vectors(build.vectors, build.manifest.index_kind)).save(tmp / "vectors.faiss")  # type: ignore[arg-type]
    LexicalSearch.build(build.lexical_texts).save(tmp / "bm25")
    LexicalSearch.build(build.post_texts).save(tmp / "bm25-posts")
    build.manifest.save(tmp / "manifest.json")  # last: a folder without it was never finished
    _fsync_tree(tmp)
    os.rename(tmp, final)
    _fsync_dir(versions)
    set_current(root, build.manifest.version)
    _prune(root)
    return final


def set_current(root: Path, version: str) -> None:
    """Point CURRENT at a complete version in one atomic rename (also how rollback works)."""
    if not (root / "versions" / version / "manifest.json").is_file():
        raise IndexMissing(f"{root}: no complete version {version!r}")
    tmp = root / f".CURRENT.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / "CURRENT")
    _fsync_dir(root)


def current_version(root: Path) -> str | None:
    """The published version's id, or None when nothing was published yet."""
    try:
        return (root / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def list_versions(root: Path) -> list[str]:
    """Complete versions, oldest first."""
    folder = root / "versions"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and (p / "manifest.json").is_file())


def open_index(root: Path, version: str | None = None) -> IndexVersion:
    """Open the published (or a named) version, checking every part against its manifest."""
    version = version or current_version(root)
    if version is None:
        raise IndexMissing(f"{root}: no index published yet (run `casebook ingest`)")
    path = root / "versions" / version
    if not path.is_dir():
        raise IndexMissing(f"{root}: version {version!r} not found")
    manifest = Manifest.load(path / "manifest.json")
    posts, series, passages = read_metadata(path / "meta.sqlite")
    try:
        vectors = VectorSearch.load(path / "vectors.faiss")
    except RuntimeError as e:
        raise IndexCorrupt(f"{path}/vectors.faiss: unreadable: {e}") from e
    expected = manifest.counts.get("passages")
    if not (vectors.count == len(passages) == expected):
        raise IndexMismatch(
            f"{path}: manifest says {expected} passages, metadata has {len(passages)}, vectors {vectors.count}"
        )
    if vectors.dim != manifest.dim:
        raise IndexMismatch(f"{path}: vectors have dimension {vectors.dim}, manifest says {manifest.dim}")
    try:
        lexical = LexicalSearch.load(path / "bm25", len(passages))
        post_lexical = LexicalSearch.load(path / "bm25-posts", len(posts))
    except (OSError, ValueError) as e:
        raise IndexCorrupt(f"{path}/bm25: unreadable: {e}") from e
    return IndexVersion(path, manifest, posts, series, passages, vectors, lexical, post_lexical, list(posts))


def reusable_vectors(root: Path) -> tuple[Manifest, dict[str, np.ndarray]] | None:
    """The published version's manifest and its vectors by embedded-text key, or None if unusable."""
    try:
        version = open_index(root)
        keys = read_embed_keys(version.path / "meta.sqlite")
    except (IndexMissing, IndexCorrupt, IndexMismatch):
        return None
    vectors = version.vectors.all_vectors()
    return version.manifest, dict(zip(keys, vectors, strict=True))


def _remove_partial_versions(versions: Path) -> None:
    # Left by an ingest that was killed; safe to delete because we hold the write lock.
    for partial in versions.glob(".tmp-*"):
        shutil.rmtree(partial, ignore_errors=True)


def _prune(root: Path) -> None:
    current = current_version(root)
    for old in list_versions(root)[:-KEEP_VERSIONS]:
        if old != current:
            shutil.rmtree(root / "versions" / old, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
