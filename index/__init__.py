"""The index stage: records, embedding model, on-disk versions, dense and lexical search."""

from index.embedder import DEFAULT_MODEL, Embedder, load_embedder
from index.errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexMissing
from index.manifest import Manifest
from index.records import Hit, Passage, PostMeta, SeriesMeta
from index.store import (
    IndexBuild,
    IndexVersion,
    current_version,
    list_versions,
    open_index,
    publish,
    reusable_vectors,
    set_current,
    write_lock,
)

__all__ = [
    "DEFAULT_MODEL", "Embedder", "Hit", "IndexBuild", "IndexCorrupt", "IndexLocked", "IndexMismatch",
    "IndexMissing", "IndexVersion", "Manifest", "Passage", "PostMeta", "SeriesMeta", "current_version",
    "list_versions", "load_embedder", "open_index", "publish", "reusable_vectors", "set_current", "write_lock",
]
