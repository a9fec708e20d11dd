"""An event store in a dict, with the same rules and errors as the DynamoDB one."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from uuid import UUID

from horizon.errors import ConcurrencyError
from horizon.events import Event
from horizon.eventstore import EventStore, check_append


class MemoryEventStore(EventStore):
    """Thread-safe in-memory event store."""

    def __init__(self) -> None:
        self._streams: dict[tuple[str, UUID], list[Event]] = {}
        self._lock = threading.Lock()

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        """Return the aggregate's events with a version above `after_version`, in version order."""
        with self._lock:
            stream = self._streams.get((aggregate_type, aggregate_id), [])
            return [event for event in stream if event.version > after_version]

    def append(self, events: Sequence[Event], expected_version: int) -> None:
        """Atomically store events continuing from `expected_version`, or raise ConcurrencyError if it moved."""
        check_append(events, expected_version)
        key = events[0].stream
        with self._lock:
            stream = self._streams.setdefault(key, [])
            if len(stream) != expected_version:
                raise ConcurrencyError(key[0], key[1], expected_version, len(stream))
            stream.extend(events)
