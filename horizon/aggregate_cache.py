"""A warm Lambda's memory of recently used aggregates: their head, bounded by count, bytes and lifetime.

The cache is never the truth. A command decided from it writes with the cached version as its condition, so a
stale entry costs a lost race (whose answer carries the winner's head), never a wrong write; a command that
would not write from a cached head is decided again from the store. Queries never read it. The lifetime bound
means an entry, and any personal data in it, outlives its last use by at most `ttl_seconds`.
"""

from __future__ import annotations

from uuid import UUID

from horizon.bounded_cache import BoundedCache
from horizon.eventstore import Head

_ENTRY_OVERHEAD = 256
"""Bytes charged per entry on top of its snapshot: ids, versions and command records, roughly."""


class AggregateCache(BoundedCache[tuple[str, UUID], Head]):
    """(aggregate type, id) → Head, for heads that carry a snapshot."""

    def head(self, aggregate_type: str, aggregate_id: UUID) -> Head | None:
        """The cached head, or None when absent or older than the lifetime."""
        return self.get((aggregate_type, aggregate_id))

    def remember(self, aggregate_type: str, aggregate_id: UUID, head: Head) -> None:
        """Remember a head that has a snapshot (one without is dropped: it could not be decided from)."""
        key = (aggregate_type, aggregate_id)
        if head.snapshot is None:
            self.forget(key)
            return
        self.put(key, head, len(head.snapshot.state) + _ENTRY_OVERHEAD + 64 * len(head.commands))
