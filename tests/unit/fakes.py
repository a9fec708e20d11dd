"""Fakes for unit tests: ports subclassed to record, to conflict, or to crash on cue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from horizon.command_handler import CommandContext, CommandHandler, CommandResult
from horizon.commands import Command
from horizon.consumers import TrackedConsumer
from horizon.errors import ConcurrencyError, DomainError, ReadModelConflict
from horizon.events import Event
from horizon.eventstore import EventStore, Head, Snapshot
from horizon.memory import MemoryEventStore, MemoryReadStore
from horizon.readstore import DocumentKey, Write
from horizon.registry import Registry


class FakeClock:
    """Time that moves only when the code under test sleeps, or when the test sets `now`."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingEventStore(MemoryEventStore):
    """Keeps every successful commit in order, like the change stream of the event table.

    `conflicts` makes the next appends raise ConcurrencyError without storing; `load_calls` (history and head
    reads) and `append_calls` count every call, successful or not.
    """

    def __init__(self) -> None:
        super().__init__()
        self.commits: list[tuple[Event, ...]] = []
        self.conflicts = 0
        self.load_calls = 0
        self.append_calls = 0

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        self.load_calls += 1
        return super().load(aggregate_type, aggregate_id, after_version)

    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        self.load_calls += 1
        return super().load_head(aggregate_type, aggregate_id)

    def append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None = None) -> None:
        self.append_calls += 1
        if self.conflicts:
            self.conflicts -= 1
            head = events[0]
            raise ConcurrencyError(head.aggregate_type, head.aggregate_id, expected_version, expected_version + 1)
        super().append(events, expected_version, snapshot)
        self.commits.append(tuple(events))


class ConflictingReadStore(MemoryReadStore):
    """Raises ReadModelConflict on the next `conflicts` commits without writing; counts every commit."""

    def __init__(self, conflicts: int = 0) -> None:
        super().__init__()
        self.conflicts = conflicts
        self.commit_calls = 0

    def commit(self, writes: Sequence[Write]) -> None:
        self.commit_calls += 1
        if self.conflicts:
            self.conflicts -= 1
            raise ReadModelConflict("commit: simulated concurrent writer")
        super().commit(writes)


class ReadRecordingStore(MemoryReadStore):
    """Records the keys of every read, in order (a peek is a `get_many` here)."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[DocumentKey] = []
        self.requests: list[list[DocumentKey]] = []
        """The keys of each read request, in order."""

    def get_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Any]:
        self.read.extend(keys)
        self.requests.append(list(keys))
        return super().get_many(keys)

    def tracking_reads(self) -> list[str]:
        """The aggregates whose tracking items were read since the last call."""
        found = [key for collection, key in self.read if collection.startswith("_tracking.")]
        self.read.clear()
        return found


class Crash(Exception):
    """A simulated process crash (not a HorizonError, so no runtime swallows it)."""


class CrashingCommandHandler(CommandHandler):
    """Crashes on the next `crashes` calls to handle, either before sending or after the command took effect."""

    def __init__(self, registry: Registry, store: EventStore, *, crashes: int = 1, after_send: bool = False) -> None:
        super().__init__(registry, store, sleep=lambda seconds: None)
        self.crashes = crashes
        self.after_send = after_send
        self.calls = 0

    def handle(self, command: Command, context: CommandContext) -> CommandResult:
        self.calls += 1
        if self.crashes and not self.after_send:
            self.crashes -= 1
            raise Crash(f"crashed before sending {command.command_type}")
        result = super().handle(command, context)
        if self.crashes:
            self.crashes -= 1
            raise Crash(f"crashed after sending {command.command_type}")
        return result


class Stream:
    """Delivers every commit of a recording store to every consumer, in order, including commits they cause."""

    def __init__(self, store: RecordingEventStore, consumers: Sequence[TrackedConsumer]) -> None:
        self.store = store
        self.consumers = list(consumers)
        self.position = 0

    def pump(self) -> None:
        while self.position < len(self.store.commits):
            commit = self.store.commits[self.position]
            for consumer in self.consumers:
                consumer.process(commit)
            self.position += 1


class RefusingCommandHandler(CommandHandler):
    """Refuses the next `refusals` commands with a DomainError, as an aggregate whose state moved on would."""

    def __init__(self, registry: Registry, store: EventStore, *, refusals: int = 1) -> None:
        super().__init__(registry, store, sleep=lambda seconds: None)
        self.refusals = refusals

    def handle(self, command: Command, context: CommandContext) -> CommandResult:
        if self.refusals:
            self.refusals -= 1
            raise DomainError(f"{command.command_type}: refused on cue", aggregate_type="Invitation")
        return super().handle(command, context)
