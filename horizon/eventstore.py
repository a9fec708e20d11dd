"""The event store port: load an aggregate's history or its head, append to it with an expected version."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

from horizon.errors import InvalidEvents
from horizon.events import Event

RECENT_COMMANDS = 16
"""Command ids a head keeps at least (docs/event-store.md): a retry older than this is decided again."""


@dataclass(frozen=True)
class Snapshot:
    """An aggregate's folded state at `version`: JSON from `Aggregate.snapshot`, under its `state_version`.

    A cache, never the truth: a command ignores a snapshot it cannot restore or of another state version.
    """

    version: int
    state_version: int
    state: str


@dataclass(frozen=True)
class CommandRecord:
    """A command that took effect: its id and type, and the versions of the events it appended."""

    command_id: str
    command: str
    first: int
    last: int


@dataclass(frozen=True)
class Head:
    """What a command needs to decide: the version, the newest snapshot, newer events, recent command ids.

    `events` holds at least every event after the snapshot (all of them when there is no snapshot) unless the
    store says otherwise by leaving a gap, in which case the caller replays the history with `load`.
    """

    version: int
    snapshot: Snapshot | None = None
    events: tuple[Event, ...] = ()
    commands: tuple[CommandRecord, ...] = ()

    def command(self, command_id: str) -> CommandRecord | None:
        """The record of a recent command with this id, if the head still holds it."""
        return next((record for record in self.commands if record.command_id == command_id), None)


class EventStore(ABC):
    """Append-only, per-aggregate ordered storage of events with optimistic concurrency."""

    @abstractmethod
    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        """Return the aggregate's events with a version above `after_version`, in version order."""

    @abstractmethod
    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        """Return the aggregate's head (version 0 when it has no events) in as few reads as the store can."""

    @abstractmethod
    def append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None = None) -> None:
        """Atomically store events (and the state after them) continuing from `expected_version`.

        Raise ConcurrencyError if the aggregate moved; its `head`, when set, is the winner's head.
        """

    @abstractmethod
    def aggregates(self, segment: int = 0, total: int = 1) -> Iterator[AggregateRef]:
        """Every aggregate in segment `segment` of `total` disjoint segments (all of them together: the store)."""


@dataclass(frozen=True)
class AggregateRef:
    """One aggregate as catch-up enumerates it: its type, id and version when it was listed."""

    aggregate_type: str
    aggregate_id: UUID
    version: int


def check_segment(segment: int, total: int) -> None:
    """Both stores refuse a segment outside 0..total-1 rather than silently list nothing."""
    if total < 1 or not 0 <= segment < total:
        raise InvalidEvents(f"aggregates: segment {segment} of {total} does not exist")


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


def command_record(events: Sequence[Event]) -> CommandRecord | None:
    """The record a commit leaves for idempotency, or None when its command had no id."""
    meta = events[0].metadata
    if meta.command_id is None:
        return None
    return CommandRecord(meta.command_id, meta.command, events[0].version, events[-1].version)
