"""`IndexHolder`: the served version, swapped whole when a new one is published; `open_live` for commands."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Sequence

from index import Embedder, IndexCorrupt, IndexMismatch, IndexMissing
from index.embedder import Embedders
from index.errors import ModelUnavailable, StoreUnavailable
from index.settings import SharedSettings
from index.store import IndexReader, Store
from service.search.live import Live

log = logging.getLogger("casebook.index")
Prepare = Callable[[Live], object]  # work a version does before it serves, e.g. related posts' space


class IndexHolder:
    """Holds the live version; `refresh` loads a newly published one and swaps it in atomically."""

    def __init__(self, store: Store, embedders: Embedders, cache_bytes: int, prepare: Sequence[Prepare] = ()) -> None:
        """Args: prepare: what each version derives before it serves (the service builds the related-posts space:
        seconds of work on the real blog that would otherwise compete with the first queries after a swap)."""
        self.store = store
        self.embedders = embedders
        self.cache_bytes = cache_bytes
        self.prepare = tuple(prepare)
        self.live: Live | None = None
        # Why no version serves, or an older one does. Readers see it (/readyz, a 503), so it names versions but
        # no paths, hosts or exception text: those are in `reason`, for the log and for commands.
        self.last_error: str | None = None
        self.reason: str | None = None
        self.refused = 0  # versions refused since start, for /metrics
        self.unavailable: str | None = None  # set while the store cannot be reached (a database that is down)
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
            self.unavailable, self.reason = "database unavailable (see the service log)", str(e)
            return False
        except (IndexMissing, IndexMismatch) as e:  # no tables yet, or a layout this code cannot read
            public = ("no index published yet (see the service log)" if isinstance(e, IndexMissing) else
                      "the index was written in a layout this Casebook cannot read: upgrade Casebook "
                      "(see the service log)")
            if self.last_error != public:
                log.error("no index version can be served: %s", e)
            self.last_error, self.reason = public, str(e)
            return False

    def _refresh(self) -> bool:
        published = self.store.published()
        if self.unavailable is not None:
            log.info("index store reachable again")
            self.unavailable = None
        if published is None or published == self._seen:
            if published is None and self.live is None:
                self.last_error, self.reason = "no index published yet", f"{self.store}: no index published yet"
            return False
        with self._lock:
            if published == self._seen:
                return False
            seen, self._seen = self._seen, published
            if self.live is not None and self.live.version_id == published:  # rolled back to what we serve
                self.last_error = self.reason = None
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
            settle_heap()
            if live.version_id == published:
                self.last_error = self.reason = None
            log.info("serving index version %s (%d passages)", live.version_id, len(live.version.passages))
            return True

    def close(self) -> None:
        """Let go of the store (a database's connection pool)."""
        self.store.close()

    def _load(self, version_id: str) -> Live | None:
        try:
            version = self.store.open(version_id)
            live = Live(version, lambda: model_of(self.store, self.embedders, version), self.cache_bytes)
            live.prepare()
        except StoreUnavailable:
            raise
        # Any failure, a model that is not installed included, must leave the running version serving.
        except Exception as e:  # noqa: BLE001
            self.refused += 1
            known = isinstance(e, IndexMissing | IndexCorrupt | IndexMismatch | ModelUnavailable)
            kind = "" if known else f"{type(e).__name__}: "
            self.last_error = f"version {version_id} refused: {type(e).__name__} (see the service log)"
            self.reason = f"version {version_id} refused: {kind}{e}"
            log.error("refusing index version %s: %s%s", version_id, kind, e)
            return None
        for prepare in self.prepare:
            try:
                live.derived(prepare)
            except StoreUnavailable:
                raise
            except Exception:  # the engine will try again when asked, and say what went wrong
                log.exception("preparing version %s (%s) failed", version_id, getattr(prepare, "__name__", prepare))
        return live

    def _fallback(self, refused: str) -> Live | None:
        """At start-up, when the published version is refused, serve the newest older one that opens."""
        reason = self.last_error, self.reason
        # Only older ones: a newer complete folder may be from an ingest killed before it published.
        for older in reversed([v for v in self.store.versions() if v < refused]):
            live = self._load(older)
            if live is not None:
                log.warning("published version %s was refused; serving the older version %s until a new one "
                            "is published (or run `casebook index rollback`)", refused, older)
                self.last_error = self.reason = f"published version {refused} was refused; serving {older}"
                return live
        self.last_error, self.reason = reason
        return None


def settle_heap() -> None:
    """Collect what the previous version left, then exempt everything alive now (the served version's records,
    vocabularies, model) from the collector's full passes.

    A full pass walks every object in the process: at 10x the real blog ~100 ms, stalled in whichever request set
    it off. Frozen objects are still freed by reference counting; only cycles among them wait for the next
    version's collection here.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def model_of(store: Store, embedders: Embedders, version: IndexReader) -> Embedder:
    """The model a version names, from the copy ingest kept with the index (it runs without PyTorch)."""
    manifest = version.manifest
    embedder = embedders.get(manifest.model, manifest.precision, store.model_path(manifest.model, manifest.precision))
    if embedder.dim != manifest.dim:
        raise IndexMismatch(f"model {manifest.model} gives {embedder.dim}-dimensional vectors, the index holds "
                            f"{manifest.dim}")
    return embedder


def open_live(settings: SharedSettings, *, prepare: bool = True) -> Live:
    """The published version for one command, with no response cache; IndexMissing says why there is none.

    Prepared (the model loaded), a refused version falls back to an older one as the service does; unprepared,
    the model is loaded only if the command embeds (related posts and cross-links read stored vectors).
    """
    embedders = Embedders(settings.runtime)
    if not prepare:
        store = settings.store()
        version = store.open()
        return Live(version, lambda: model_of(store, embedders, version))
    holder = IndexHolder(settings.store(), embedders, cache_bytes=0)
    holder.refresh()
    if holder.unavailable is not None:
        raise StoreUnavailable(holder.reason or holder.unavailable)
    if holder.live is None:
        raise IndexMissing(holder.reason or f"{holder.store}: no index published yet")
    return holder.live
