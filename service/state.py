"""The service's live index: the current version, its embedder and cache, swapped whole when ingest publishes."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index import Embedder, IndexCorrupt, IndexMismatch, IndexMissing, load_embedder, open_index
from index.store import current_version
from service.catalog import Catalog

log = logging.getLogger("casebook.index")


class LruCache:
    """A small thread-safe LRU map with hit/miss counts."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """The cached value or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        """Store a value, evicting the least recently used beyond the size."""
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass
class Live:
    """One loaded version with everything derived from it; requests hold one for their whole life."""

    catalog: Catalog
    embedder: Embedder
    cache: LruCache
    query_vectors: LruCache = field(default_factory=lambda: LruCache(4096))

    @property
    def version(self) -> str:
        """The index version id."""
        return self.catalog.version.manifest.version

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector, from the cache when the same text was asked before."""
        vector = self.query_vectors.get(query)
        if vector is None:
            vector = self.embedder.encode([query])[0]
            self.query_vectors.put(query, vector)
        return vector


class IndexHolder:
    """Holds the live version; `refresh` loads a newly published one and swaps it in atomically."""

    def __init__(self, index_dir: Path, cache_size: int) -> None:
        self.index_dir = index_dir
        self.cache_size = cache_size
        self.live: Live | None = None
        self.last_error: str | None = None
        self._seen: str | None = None
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Load the published version if it is new; keep serving the old one when it cannot be opened."""
        published = current_version(self.index_dir)
        if published is None or published == self._seen:
            if published is None and self.live is None:
                self.last_error = f"{self.index_dir}: no index published yet"
            return False
        with self._lock:
            if published == self._seen:
                return False
            self._seen = published
            try:
                version = open_index(self.index_dir, published)
                embedder = load_embedder(version.manifest.model)
                catalog = Catalog(version)
            except (IndexMissing, IndexCorrupt, IndexMismatch, OSError) as e:
                self.last_error = str(e)
                log.error("refusing index version %s: %s", published, e)
                return False
            self.live = Live(catalog, embedder, LruCache(self.cache_size))
            self.last_error = None
            log.info("serving index version %s (%d passages)", published, len(version.passages))
            return True
