"""A least-recently-used map bounded by entry count, bytes and lifetime: what a warm Lambda may keep.

Both of a warm container's caches sit on it: the command handler's aggregates (horizon/aggregate_cache.py) and
the DynamoDB store's tips (horizon/dynamodb/tips.py). Neither is ever the truth: each is checked by a
conditional write, and the lifetime bound says how long anything in it outlives its last use.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """Key → value, least recently used first out, past `max_entries` or `max_bytes`; stale after `ttl_seconds`."""

    def __init__(
        self,
        *,
        max_entries: int = 1_000,
        max_bytes: int = 16 * 1024 * 1024,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[K, tuple[V, int, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value, or None when absent or older than the lifetime (it is dropped then)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() - entry[2] > self._ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V, size: int) -> None:
        """Keep `value`, charged `size` bytes (never, if it alone is past the bound); evict past the bounds."""
        with self._lock:
            self._drop(key)
            if size > self._max_bytes:
                return
            self._entries[key] = (value, size, self._clock())
            self._bytes += size
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                self._drop(next(iter(self._entries)))

    def forget(self, key: K) -> None:
        """Drop one entry."""
        with self._lock:
            self._drop(key)

    def clear(self) -> None:
        """Drop every entry (after a SnapStart restore: an entry's age means nothing across one)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """The bytes charged to the entries held now."""
        return self._bytes

    def _drop(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]
