"""A bounded, thread-safe LRU map: what a process keeps of a version at most (a database store's rows, the
service's results and query vectors)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Lru(Generic[Key, Value]):
    """At most `size` entries (or `size` units of `weigh`); the least recently used go first. Size 0 keeps nothing."""

    def __init__(self, size: int, weigh: Callable[[Value], int] | None = None) -> None:
        self.size = size
        self._weigh = weigh
        self._items: OrderedDict[Key, Value] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0  # of `get`, for /metrics

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Key) -> Value | None:
        """The cached value, or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Key, value: Value) -> None:
        """Store one value, evicting the least recently used beyond the bound."""
        self.put_many({key: value})

    def get_many(self, keys: Iterable[Key]) -> dict[Key, Value]:
        """The cached values among `keys`."""
        found: dict[Key, Value] = {}
        with self._lock:
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)
                    found[key] = self._items[key]
        return found

    def put_many(self, items: dict[Key, Value]) -> None:
        """Store values, evicting the least recently used beyond the bound."""
        with self._lock:
            for key, value in items.items():
                if key in self._items:
                    self._weight -= self._cost(self._items.pop(key))
                self._items[key] = value
                self._weight += self._cost(value)
            while self._items and self._weight > self.size:
                self._weight -= self._cost(self._items.popitem(last=False)[1])

    def _cost(self, value: Value) -> int:
        return self._weigh(value) if self._weigh is not None else 1

    def fetch(self, keys: Iterable[Key], load: Callable[[list[Key]], dict[Key, Value]]) -> dict[Key, Value]:
        """The values of `keys`: cached ones, and the rest from `load` (one call for all misses)."""
        keys = list(dict.fromkeys(keys))
        found = self.get_many(keys)
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = load(missing)
            self.put_many(loaded)
            found.update(loaded)
        return found
