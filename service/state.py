"""The service's live index: the current version, its embedder and caches, swapped whole on publish."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from index import Embedder, IndexCorrupt, IndexMismatch, IndexMissing
from index.embedder import Embedders
from index.errors import ModelUnavailable, StoreUnavailable
from index.settings import SharedSettings
from index.store import Store
from service.catalog import Catalog
from service.compose import Parsed
from service.related import RelatedSpace, related_space
from service.schemas import SearchResponse

Value = TypeVar("Value")
log = logging.getLogger("casebook.index")
PASSAGE_SENTENCES = 4096  # passages whose answer sentences are kept parsed; answers read the same popular ones


class LruCache(Generic[Value]):
    """A small thread-safe LRU map with hit/miss counts."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Value | None:
        """The cached value or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Value) -> None:
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
    """One loaded version with everything derived from it; requests hold one for their whole life.

    Whatever is derived from the version lives here, so it goes when the version is swapped out.
    """

    catalog: Catalog
    embedder: Embedder
    cache: LruCache[SearchResponse]  # whole responses (an answer is a search response too)
    query_vectors: LruCache[np.ndarray] = field(default_factory=lambda: LruCache(4096))
    passage_sentences: LruCache[Parsed] = field(default_factory=lambda: LruCache(PASSAGE_SENTENCES))
    _space: RelatedSpace | None = field(default=None, init=False, repr=False)
    _space_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

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

    def related_space(self) -> RelatedSpace:
        """What related posts read: the version's vectors grouped by post (built on first use), or the store's SQL."""
        with self._space_lock:
            if self._space is None:
                self._space = related_space(self.catalog)
            return self._space


class IndexHolder:
    """Holds the live version; `refresh` loads a newly published one and swaps it in atomically."""

    def __init__(self, store: Store, embedders: Embedders, cache_size: int, warm_related: bool = False) -> None:
        """Args: warm_related: build each version's related-posts space before it serves (the service does: its
        seconds of work on the real blog would otherwise compete with the first queries after a start or a swap;
        a one-off command does not need it)."""
        self.store = store
        self.embedders = embedders
        self.cache_size = cache_size
        self.warm_related = warm_related
        self.live: Live | None = None
        self.last_error: str | None = None
        self.refused = 0  # versions refused since start, for /metrics
        self.unavailable: str | None = None  # why the store cannot be reached now (a database that is down)
        self._seen: str | None = None
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Load the published version if it is new; keep serving the old one when it cannot be opened.

        A store that cannot be reached is not a refused version: readiness says so until it answers again,
        and the version is loaded then.
        """
        try:
            return self._refresh()
        except StoreUnavailable as e:
            if self.unavailable is None:
                log.error("index store unavailable: %s", e)
            self.unavailable = str(e)
            return False
        except (IndexMissing, IndexMismatch) as e:  # no tables yet, or a layout this code cannot read
            self.last_error = str(e)
            return False

    def _refresh(self) -> bool:
        published = self.store.published()
        if self.unavailable is not None:
            log.info("index store reachable again")
            self.unavailable = None
        if published is None or published == self._seen:
            if published is None and self.live is None:
                self.last_error = f"{self.store}: no index published yet"
            return False
        with self._lock:
            if published == self._seen:
                return False
            seen, self._seen = self._seen, published
            if self.live is not None and self.live.version == published:  # rolled back to what we serve
                self.last_error = None
                return False
            try:
                live = self._load(published)
            except StoreUnavailable:
                self._seen = seen  # not refused: try it again when the store answers
                raise
            if live is None and self.live is None:
                live = self._fallback(published)
            if live is None:
                return False
            self.live = live
            if live.version == published:
                self.last_error = None
            passages = len(live.catalog.version.passages)
            log.info("serving index version %s (%d passages)", live.version, passages)
            return True

    def close(self) -> None:
        """Let go of the store (a database's connection pool)."""
        self.store.close()

    def _load(self, version_id: str) -> Live | None:
        try:
            version = self.store.open(version_id)
            # The model's copy that ingest left in the index folder runs without PyTorch (the serving install).
            manifest = version.manifest
            embedder = self.embedders.get(manifest.model, manifest.precision,
                                          self.store.model_path(manifest.model, manifest.precision))
            if embedder.dim != manifest.dim:
                raise IndexMismatch(f"model {manifest.model} gives {embedder.dim}-dimensional "
                                    f"vectors, the index holds {manifest.dim}")
            catalog = Catalog(version, embedder.whole_words())  # the model's words are real words to spelling
            version.vectors.prepare()
        except StoreUnavailable:
            raise
        # Any failure, a model that is not installed included, must leave the running version serving.
        except Exception as e:  # noqa: BLE001
            self.refused += 1
            known = isinstance(e, IndexMissing | IndexCorrupt | IndexMismatch | ModelUnavailable)
            kind = "" if known else f"{type(e).__name__}: "
            self.last_error = f"version {version_id} refused: {kind}{e}"
            log.error("refusing index version %s: %s%s", version_id, kind, e)
            return None
        live = Live(catalog, embedder, LruCache(self.cache_size))
        if self.warm_related:
            try:
                live.related_space()
            except StoreUnavailable:
                raise
            except Exception:  # related posts will try again when asked, and say what went wrong
                log.exception("building the related-posts space of version %s failed", version_id)
        return live

    def _fallback(self, refused: str) -> Live | None:
        """At start-up, when the published version is refused, serve the newest older one that opens."""
        reason = self.last_error
        # Only older ones: a newer complete folder may be from an ingest killed before it published.
        for older in reversed([v for v in self.store.versions() if v < refused]):
            live = self._load(older)
            if live is not None:
                log.warning("published version %s was refused; serving the older version %s until a new one "
                            "is published (or run `casebook index rollback`)", refused, older)
                self.last_error = f"published version {refused} was refused; serving {older}"
                return live
        self.last_error = reason
        return None


def open_live(settings: SharedSettings) -> Live:
    """The published version, loaded once for one command (no result cache); IndexMissing says why not."""
    holder = IndexHolder(settings.store(), Embedders(settings.runtime), cache_size=0)
    holder.refresh()
    if holder.unavailable is not None:
        raise StoreUnavailable(holder.unavailable)
    if holder.live is None:
        raise IndexMissing(holder.last_error or f"{holder.store}: no index published yet")
    return holder.live
