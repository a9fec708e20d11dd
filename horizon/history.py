"""Replaying history: an aggregate rebuilt from its events, up to a version or a moment (time travel)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from horizon.aggregate import Aggregate
from horizon.events import Event
from horizon.registry import Registry


def replay(registry: Registry, aggregate_type: str, aggregate_id: UUID, events: Iterable[Event]) -> Aggregate:
    """The aggregate after applying `events` (in version order) to a fresh one; version 0 when there are none.

    Raises UnknownType for an unregistered aggregate type and UnreadableHistory for an event the code cannot read.
    """
    aggregate = registry.aggregate(aggregate_type)(aggregate_id)
    for event in events:
        for data in registry.decode(event):
            aggregate.apply(data)
        aggregate.version = event.version
    return aggregate


def until(events: Iterable[Event], *, version: int | None = None, as_of: datetime | None = None) -> list[Event]:
    """The prefix of a history up to and including `version`, or up to events stamped at or before `as_of`."""
    kept: list[Event] = []
    for event in events:
        if (version is not None and event.version > version) or (as_of is not None and event.timestamp > as_of):
            break
        kept.append(event)
    return kept
