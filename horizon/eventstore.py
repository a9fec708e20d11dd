"""The event store port: load an aggregate's history, append to it with an expected version."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from uuid import UUID

from horizon.errors import InvalidEvents
from horizon.events import Event


class EventStore(ABC):
    """Append-only, per-aggregate ordered storage of events with optimistic concurrency."""

    @abstractmethod
    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        """Return the aggregate's events with a version above `after_version`, in version order."""

    @abstractmethod
    def append(self, events: Sequence[Event], expected_version: int) -> None:
        """Atomically store events continuing from `expected_version`, or raise ConcurrencyError if it moved."""


def check_append(events: Sequence[Event], expected_version: int) -> None:
    """Enforce the rules every store shares: one aggregate, versions expected+1, +2, … without holes."""
    if not events:
        raise InvalidEvents("append: no events to append")
    if expected_version < 0:
        raise InvalidEvents(f"append: expected version {expected_version} is negative")
    first = events[0]
    for offset, event in enumerate(events, start=1):
        if event.stream != first.stream:
            raise InvalidEvents(
                f"append to {first.aggregate_type} {first.aggregate_id}: "
                f"event {event.event_id} belongs to {event.aggregate_type} {event.aggregate_id}"
            )
        if event.version != expected_version + offset:
            raise InvalidEvents(
                f"append to {first.aggregate_type} {first.aggregate_id}: event {event.event_id} has version "
                f"{event.version}, expected {expected_version + offset}"
            )
