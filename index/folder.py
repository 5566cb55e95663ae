"""The index folder: versions written beside each other, published by one atomic pointer switch.

    <root>/versions/<version>/   manifest.json  meta.sqlite  vectors.faiss  bm25/  bm25-posts/
    <root>/models/<model>/       model.onnx  tokenizer.json  config files: the model as ONNX Runtime serves it
    <root>/CURRENT               the published version's id (replaced atomically)
    <root>/.lock                 held by the one ingest allowed to write

Nothing outside this module builds these paths: everyone else goes through `FolderStore`, and only the
`FolderWriter` that `FolderStore.lock` hands out writes into them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from index.embedder import Precision
from index.errors import IndexCorrupt, IndexError_, IndexLocked, IndexMismatch, IndexMissing
from index.features import evidence_by_post, url_paths
from index.files import fsync_dir, fsync_tree, link_or_copy, model_folder
from index.lexical import LexicalSearch
from index.manifest import Manifest
from index.metadata import read_embed_keys, read_metadata, read_skipped, write_metadata
from index.records import Passage, PostMeta, SeriesMeta, SkippedPost
from index.scope import Filters, Scope, matches
from index.spelling import blog_words
from index.store import KEEP_VERSIONS, IndexBuild, roll_back
from index.text import repeated_openings
from index.vectors import VectorSearch, build_vectors


@dataclass(frozen=True, kw_only=True)
class FolderVersion:
    """One opened, validated version: records in memory, dense and lexical search ready."""

    manifest: Manifest
    posts: dict[str, PostMeta]
    series: dict[str, SeriesMeta]
    passages: list[Passage]
    vectors: VectorSearch
    lexical: LexicalSearch
    post_lexical: LexicalSearch  # BM25 over whole posts; row i is post_order[i]
    post_order: list[str]

    # What the service derives from a version, computed on first use (a few ms for the real blog).
    @cached_property
    def passages_by_post(self) -> dict[str, tuple[int, ...]]:
        """Each post's passage ids, in order (posts without passages are absent)."""
        by_post: dict[str, list[int]] = {}
        for passage in self.passages:
            by_post.setdefault(passage.post_path, []).append(passage.id)
        return {path: tuple(ids) for path, ids in by_post.items()}

    @cached_property
    def evidence_by_post(self) -> dict[str, tuple[int, ...]]:
        """What a post says itself: its passages without navigation lists, which only repeat other posts' titles."""
        return evidence_by_post(self.passages)

    @cached_property
    def by_url_path(self) -> dict[str, str]:
        """Post path by normalised URL path and alias."""
        return url_paths(self.posts.values())

    @property
    def related_by_store(self) -> None:
        """None: related posts derive their evidence from this version in memory."""
        return None

    @cached_property
    def boilerplate(self) -> frozenset[str]:
        """Sentence openings the blog repeats across posts (`text.repeated_openings`): never answer text."""
        return repeated_openings(self.passages)

    def scope(self, filters: Filters) -> Scope | None:
        """Passage ids and post rows (positions in post_order) that satisfy the filters; None when unfiltered."""
        if not filters.active:
            return None
        passages: set[int] = set()
        rows: set[int] = set()
        for row, path in enumerate(self.post_order):
            if matches(self.posts[path], filters):
                rows.add(row)
                passages.update(self.passages_by_post.get(path, ()))
        return Scope(passages=passages, posts=rows)

    def fetch_passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        """Several passages by id."""
        return {i: self.passages[i] for i in ids}

    def fetch_posts(self, paths: Iterable[str]) -> dict[str, PostMeta]:
        """The posts among `paths`."""
        return {p: self.posts[p] for p in paths if p in self.posts}

    def fetch_series(self, slugs: Iterable[str]) -> dict[str, SeriesMeta]:
        """The series among `slugs`."""
        return {s: self.series[s] for s in slugs if s in self.series}

    def post_paths(self, rows: Sequence[int]) -> list[str]:
        """Post paths by row."""
        return [self.post_order[r] for r in rows]

    def lead_passage(self, path: str) -> int | None:
        """A post's first passage that is not navigation, where answers find its summary."""
        ids = self.evidence_by_post.get(path, ())
        return ids[0] if ids else None

    def vocabulary(self) -> Counter[str]:
        """Every word the blog writes with its count, for spelling correction."""
        return blog_words(list(self.posts.values()), self.passages)

    def reading(self) -> AbstractContextManager[None]:
        """Nothing to hold: everything is in memory."""
        return nullcontext()


class FolderStore:
    """Index versions in one folder: write one, publish one, open the published one, roll back."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __str__(self) -> str:
        return str(self.root)

    def close(self) -> None:
        """Nothing to close: the folder store holds no connections."""

    def published(self) -> str | None:
        """The published version's id, or None when nothing was published yet."""
        try:
            return (self.root / "CURRENT").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def versions(self) -> list[str]:
        """Complete versions, oldest first."""
        folder = self.root / "versions"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if not p.name.startswith(".") and (p / "manifest.json").is_file())

    def path(self, version: str) -> Path:
        """The folder of a version: what CI ships and what the bench measures on disk."""
        return self.root / "versions" / version

    def model_path(self, model: str, precision: Precision = "fp32") -> Path | None:
        """The folder of the model's serving files that an ingest left here (`keep_model`), or None."""
        folder = self.root / "models" / model_folder(model, precision)
        return folder if folder.is_dir() else None

    def manifest(self, version: str | None = None) -> Manifest:
        """The manifest of the published (or a named) version, checked against the format this code reads."""
        return Manifest.load(self.path(self._resolve(version)) / "manifest.json")

    def skipped(self, version: str | None = None) -> list[SkippedPost]:
        """The posts the published (or a named) version's ingest could not read."""
        return read_skipped(self.path(self._resolve(version)) / "meta.sqlite")

    def open(self, version: str | None = None) -> FolderVersion:
        """Open the published (or a named) version, checking every part against its manifest."""
        path = self.path(self._resolve(version))
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
        return FolderVersion(manifest=manifest, posts=posts, series=series, passages=passages, vectors=vectors,
                            lexical=lexical, post_lexical=post_lexical, post_order=list(posts))

    @contextmanager
    def lock(self, wait_seconds: float = 0.0) -> Iterator[FolderWriter]:
        """Hold the write lock and get the writer; a second writer waits up to `wait_seconds`, then fails clearly."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexLocked(f"{self.root}: another ingest is writing this index; "
                                          "try again later") from None
                    time.sleep(0.2)
            writer = FolderWriter(self)
            try:
                yield writer
            finally:
                writer.store = None  # a writer kept past the block can no longer write
                fcntl.flock(handle, fcntl.LOCK_UN)

    def export(self, version: str, target: Path) -> Path:
        """Lay a version and its model out under `target` as in an index folder, unpublished: what CI ships.

        Unpacked into a server's index folder, `rollback --to <version>` publishes it. Files are
        hard-linked where the file system allows, so this costs no copy.
        """
        source = self.path(self._resolve(version))
        into = FolderStore(target)
        shutil.copytree(source, into.path(version), copy_function=link_or_copy, dirs_exist_ok=True)
        manifest = self.manifest(version)
        model = self.model_path(manifest.model, manifest.precision)
        if model is not None:
            shutil.copytree(model, target / "models" / model.name, copy_function=link_or_copy, dirs_exist_ok=True)
        return into.path(version)

    def rollback(self, to: str | None = None, wait_seconds: float = 0.0) -> tuple[str, str | None]:
        """Publish `to`, or the newest version older than the published one; returns (new, old)."""
        if not (self.root / "versions").is_dir():
            raise IndexMissing(f"{self.root}: no index here (run `casebook ingest`)")
        return roll_back(self, to, wait_seconds)

    def reusable_vectors(self, model: str, precision: Precision) -> dict[str, np.ndarray]:
        """The published version's vectors by embedded-text key, when `model` at `precision` built it; else none."""
        try:
            manifest = self.manifest()
            if (manifest.model, manifest.precision) != (model, precision):
                return {}
            version = self.open()
            keys = read_embed_keys(self.path(version.manifest.version) / "meta.sqlite")
        except (IndexMissing, IndexCorrupt, IndexMismatch):
            return {}
        return dict(zip(keys, version.vectors.all_vectors(), strict=True))

    def _resolve(self, version: str | None) -> str:
        version = version or self.published()
        if version is None:
            raise IndexMissing(f"{self.root}: no index published yet (run `casebook ingest`)")
        if not self.path(version).is_dir():
            raise IndexMissing(f"{self.root}: version {version!r} not found")
        return version

    def _prune(self, keep: int = KEEP_VERSIONS) -> None:
        current = self.published()
        for old in self.versions()[:-keep]:
            if old != current:
                shutil.rmtree(self.path(old), ignore_errors=True)
        self._prune_models()

    def prune(self, keep: int) -> None:
        """Keep only the newest `keep` versions (and the published one), for a small CI cache."""
        with self.lock():
            self._prune(max(keep, 1))

    def _prune_models(self) -> None:
        """Remove model copies no kept version names (a model change leaves the old one behind)."""
        folder = self.root / "models"
        if not folder.is_dir():
            return
        try:
            used = {model_folder(m.model, m.precision) for m in map(self.manifest, self.versions())}
        except IndexError_:
            return  # a version we cannot read may need any of them
        for path in folder.iterdir():
            if path.name not in used and not path.name.startswith("."):
                shutil.rmtree(path, ignore_errors=True)


class FolderWriter:
    """What the holder of the folder's write lock may do: write versions, publish one, keep the model."""

    def __init__(self, store: FolderStore) -> None:
        self.store: FolderStore | None = store

    def _store(self) -> FolderStore:
        if self.store is None:
            raise RuntimeError("this writer's lock was released; take the lock again (`with store.lock() as writer:`)")
        return self.store

    def write(self, build: IndexBuild) -> str:
        """Write a complete new version beside the others (not yet published)."""
        store = self._store()
        versions = store.root / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        _remove_partial_versions(versions)
        tmp = versions / f".tmp-{build.manifest.version}"
        tmp.mkdir()
        write_metadata(tmp / "meta.sqlite", build.posts, build.series, build.passages, build.embed_keys,
                       build.skipped)
        VectorSearch(build_vectors(build.vectors, build.manifest.index_kind)).save(tmp / "vectors.faiss")
        LexicalSearch.build(build.lexical_texts).save(tmp / "bm25")
        LexicalSearch.build(build.post_texts).save(tmp / "bm25-posts")
        build.manifest.save(tmp / "manifest.json")  # last: a folder without it was never finished
        fsync_tree(tmp)
        os.rename(tmp, store.path(build.manifest.version))
        fsync_dir(versions)
        return build.manifest.version

    def keep_model(self, model: str, files: Mapping[str, Path], precision: Precision = "fp32") -> None:
        """Keep the files the model is served from (name -> file) beside the versions.

        Versions name their model in the manifest, so one copy serves them all; a server that has the
        index folder then runs the model without PyTorch or the model's package.
        """
        folder = self._store().root / "models" / model_folder(model, precision)
        if folder.is_dir():
            return
        tmp = folder.parent / f".tmp-{folder.name}"
        shutil.rmtree(tmp, ignore_errors=True)
        for name, source in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(source, tmp / name)
        fsync_tree(tmp)
        os.rename(tmp, folder)
        fsync_dir(folder.parent)

    def publish(self, version: str) -> None:
        """Point CURRENT at a complete version in one atomic rename, then prune the oldest versions."""
        store = self._store()
        if version not in store.versions():
            raise IndexMissing(f"{store.root}: no complete version {version!r}")
        tmp = store.root / f".CURRENT.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(version + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, store.root / "CURRENT")
        fsync_dir(store.root)
        store._prune()


def _remove_partial_versions(versions: Path) -> None:
    # Left by an ingest that was killed; safe to delete because we hold the write lock.
    for partial in versions.glob(".tmp-*"):
        shutil.rmtree(partial, ignore_errors=True)
