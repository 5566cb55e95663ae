"""The index stage: records, embedding model, versions in a store, dense and lexical search."""

from index.embedder import DEFAULT_MODEL, Embedder, Embedders, ModelRuntime
from index.errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexMissing, ModelUnavailable
from index.folder import FolderStore, FolderVersion
from index.manifest import Manifest
from index.records import Hit, Passage, PostMeta, SeriesMeta, SkippedPost
from index.store import IndexBuild

__all__ = [
    "DEFAULT_MODEL", "Embedder", "FolderStore", "Hit", "IndexBuild", "IndexCorrupt", "IndexLocked",
    "IndexMismatch", "IndexMissing", "FolderVersion", "Manifest", "Passage", "PostMeta", "SeriesMeta",
    "SkippedPost", "Embedders", "ModelRuntime", "ModelUnavailable",
]
