"""An event store in a dict, with the same rules and errors as the DynamoDB one."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Sequence
from uuid import UUID

from horizon.errors import ConcurrencyError
from horizon.events import Event
from horizon.eventstore import (
    RECENT_COMMANDS,
    AggregateRef,
    CommandRecord,
    EventStore,
    Head,
    Snapshot,
    check_append,
    check_segment,
    command_record,
)


class MemoryEventStore(EventStore):
    """Thread-safe in-memory event store; keeps the latest snapshot and recent command ids like a tip."""

    def __init__(self) -> None:
        self._streams: dict[tuple[str, UUID], list[Event]] = {}
        self._snapshots: dict[tuple[str, UUID], Snapshot] = {}
        self._commands: dict[tuple[str, UUID], list[CommandRecord]] = {}
        self._lock = threading.Lock()

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        """Return the aggregate's events with a version above `after_version`, in version order."""
        with self._lock:
            stream = self._streams.get((aggregate_type, aggregate_id), [])
            return [event for event in stream if event.version > after_version]

    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        """Return the aggregate's head (version 0 when it has no events) in as few reads as the store can."""
        with self._lock:
            return self._head((aggregate_type, aggregate_id))

    def append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None = None) -> None:
        """Atomically store events (and the state after them) continuing from `expected_version`."""
        check_append(events, expected_version)
        with self._lock:
            self._append(events, expected_version, snapshot)

    def _append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None) -> None:
        # Called with the lock held.
        key = events[0].stream
        stream = self._streams.setdefault(key, [])
        if len(stream) != expected_version:
            raise ConcurrencyError(key[0], key[1], expected_version, len(stream), self._head(key))
        stream.extend(events)
        if snapshot is None:
            self._snapshots.pop(key, None)
        else:
            self._snapshots[key] = snapshot
        record = command_record(events)
        if record is not None:
            self._commands[key] = [*self._commands.get(key, []), record][-RECENT_COMMANDS:]

    def aggregates(self, segment: int = 0, total: int = 1) -> Iterator[AggregateRef]:
        """Every aggregate in segment `segment` of `total` disjoint segments (a stable hash of the stream)."""
        check_segment(segment, total)
        with self._lock:
            listed = [AggregateRef(t, i, len(s)) for (t, i), s in self._streams.items() if s]
        for ref in listed:
            if zlib.crc32(f"{ref.aggregate_type}#{ref.aggregate_id}".encode()) % total == segment:
                yield ref

    def _head(self, key: tuple[str, UUID]) -> Head:
        stream = self._streams.get(key, [])
        snapshot = self._snapshots.get(key)
        after = snapshot.version if snapshot else 0
        tail = tuple(event for event in stream if event.version > after)
        return Head(len(stream), snapshot, tail, tuple(self._commands.get(key, [])))
