"""The event table's item layout, shared by the store (writes) and the stream decoder (reads).

See docs/event-store.md for why every commit rewrites one tip item per aggregate.
"""

from __future__ import annotations

from uuid import UUID

TIP_SORT_KEY = "0"
"""The tip item sits at sort key 0, below every event (versions start at 1)."""


def stream_key(aggregate_type: str, aggregate_id: UUID) -> str:
    """The partition key of one aggregate's items."""
    return f"{aggregate_type}#{aggregate_id}"
