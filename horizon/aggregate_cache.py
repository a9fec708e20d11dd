"""A warm Lambda's memory of recently used aggregates: their head, bounded by count, bytes and lifetime.

The cache is never the truth. A command decided from it writes with the cached version as its condition, so a
stale entry costs a lost race (whose answer carries the winner's head), never a wrong write; a command that
would not write from a cached head is decided again from the store. Queries never read it. The lifetime bound
means an entry, and any personal data in it, outlives its last use by at most `ttl_seconds`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from horizon.eventstore import Head

_ENTRY_OVERHEAD = 256
"""Bytes charged per entry on top of its snapshot: ids, versions and command records, roughly."""


class AggregateCache:
    """A least-recently-used map (aggregate type, id) → Head whose heads always carry a snapshot."""

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
        self._entries: OrderedDict[tuple[str, UUID], tuple[Head, int, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, aggregate_type: str, aggregate_id: UUID) -> Head | None:
        """The cached head, or None when absent or older than the lifetime."""
        key = (aggregate_type, aggregate_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() - entry[2] > self._ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, aggregate_type: str, aggregate_id: UUID, head: Head) -> None:
        """Remember a head that has a snapshot, evicting the least recently used entries past the bounds."""
        key = (aggregate_type, aggregate_id)
        if head.snapshot is None:
            self.forget(aggregate_type, aggregate_id)
            return
        size = len(head.snapshot.state) + _ENTRY_OVERHEAD + 64 * len(head.commands)
        with self._lock:
            self._drop(key)
            if size > self._max_bytes:
                return
            self._entries[key] = (head, size, self._clock())
            self._bytes += size
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                self._drop(next(iter(self._entries)))

    def forget(self, aggregate_type: str, aggregate_id: UUID) -> None:
        """Drop one aggregate's entry (after a lost race, or when its data must go)."""
        with self._lock:
            self._drop((aggregate_type, aggregate_id))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """The bytes charged to the entries held now."""
        return self._bytes

    def _drop(self, key: tuple[str, UUID]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]
