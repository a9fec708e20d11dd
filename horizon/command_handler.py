"""Command handling: load the head, decide, append with the expected version; retry on a concurrent writer."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from horizon import telemetry
from horizon.aggregate import Aggregate
from horizon.aggregate_cache import AggregateCache
from horizon.authorization import Admission, Audience, Forbidden, Principal, admit, authorize_owner
from horizon.commands import Command
from horizon.errors import AggregateNotFound, CommandIdReused, ConcurrencyError, DomainError
from horizon.events import Event, Metadata
from horizon.eventstore import RECENT_COMMANDS, CommandRecord, EventStore, Head, Snapshot, command_record
from horizon.history import replay
from horizon.privacy.keys import SubjectForgotten
from horizon.registry import Registry
from horizon.retry import COMMAND_CONFLICTS, RetryPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandContext:
    """Who sends one command, and its tracing ids; `command_id` also makes a retried command a no-op."""

    principal: Principal = field(kw_only=True)
    command_id: str = field(default_factory=lambda: str(uuid4()))
    correlation_id: str | None = None
    causation_id: str | None = None


@dataclass(frozen=True)
class CommandResult:
    """What a command did: the aggregate's version afterwards and the events it appended (maybe none)."""

    aggregate_type: str
    aggregate_id: UUID
    version: int
    events: tuple[Event, ...]
    duplicate: bool = False


class _Unchecked(Exception):
    """A command decided from an unchecked head (cached, or presumed new) would not write: decide from the store."""


class CommandHandler:
    """Runs commands against aggregates kept in an event store, optionally through a warm aggregate cache."""

    def __init__(
        self,
        registry: Registry,
        store: EventStore,
        *,
        retry: RetryPolicy = COMMAND_CONFLICTS,
        sleep: Callable[[float], None] = time.sleep,
        cache: AggregateCache | None = None,
    ) -> None:
        self._registry = registry
        self._store = store
        self._retry = retry
        self._sleep = sleep
        self._cache = cache

    def handle(self, command: Command, context: CommandContext) -> CommandResult:
        """Apply one command; raise Forbidden, DomainError, AggregateNotFound, or ConcurrencyError after retries."""
        # The one place every entry point passes through, so no route, saga or CLI can skip the audience check.
        admission = admit(context.principal, self._operation(command), command.audience)
        binding = self._registry.binding(type(command))
        aggregate_type = binding.aggregate.aggregate_type
        head = self._cache.head(aggregate_type, command.id) if self._cache is not None else None
        # A creation presumes its aggregate new and reads nothing: the write's condition (no tip yet) checks it.
        presumed_new = head is None and binding.creates
        if presumed_new:
            head = Head(0)
        unchecked = head is not None  # not read from the store (cached, or presumed new): only a write checks it
        attempt = 1
        while True:
            try:
                head = head or self._store.load_head(aggregate_type, command.id)
                return self._attempt(command, context, head, unchecked, admission)
            except ConcurrencyError as lost:
                if self._cache is not None:
                    self._cache.forget((aggregate_type, command.id))
                # The failed write told us the winner's head (when the store could): resync without a read.
                head, unchecked = lost.head, False
                if presumed_new:
                    # Not contention but a wrong presumption (a retried creation, most likely): decide again at
                    # once from the head that proved it wrong, without a pause or a retry counted.
                    presumed_new = False
                    continue
                if attempt == self._retry.attempts:
                    raise
                telemetry.current().count(telemetry.COMMANDS_RETRIED)
                self._sleep(self._retry.pause(attempt))
                attempt += 1
            except (_Unchecked, DomainError, AggregateNotFound, Forbidden, SubjectForgotten):
                if not unchecked:
                    raise
                # An answer without a write is given from the store's head, never from an unchecked one.
                head, unchecked, presumed_new = None, False, False

    def authorize_read(
        self, principal: Principal, operation: str, audience: Audience, aggregate_type: str, aggregate_id: UUID
    ) -> None:
        """Raise Forbidden unless the principal may read this aggregate: by role, or as its owner.

        An owner is judged on the store's head (one strongly consistent read), never on a cached one, so a read
        refused by a forget on another container is refused here at once.
        """
        if admit(principal, operation, audience) is Admission.GRANTED:
            return
        head = self._store.load_head(aggregate_type, aggregate_id)
        authorize_owner(principal, operation, audience, self.rebuild(aggregate_type, aggregate_id, head))

    def load(self, aggregate_type: str, aggregate_id: UUID) -> tuple[Aggregate, list[Event]]:
        """Rebuild an aggregate from its full history (version 0 when it has none)."""
        history = self._store.load(aggregate_type, aggregate_id)
        return replay(self._registry, aggregate_type, aggregate_id, history), history

    def rebuild(self, aggregate_type: str, aggregate_id: UUID, head: Head) -> Aggregate:
        """The aggregate at the head's version: its snapshot plus newer events, or a replay when that fails."""
        cls = self._registry.aggregate(aggregate_type)
        aggregate = self._restore(cls, aggregate_id, head.snapshot) or cls(aggregate_id)
        tail = [event for event in head.events if event.version > aggregate.version]
        if [event.version for event in tail] != list(range(aggregate.version + 1, head.version + 1)):
            # No usable snapshot, and the head does not reach back to it: replay the whole history.
            return self.load(aggregate_type, aggregate_id)[0]
        self._fold(aggregate, tail)
        return aggregate

    def _restore(self, cls: type[Aggregate], aggregate_id: UUID, snapshot: Snapshot | None) -> Aggregate | None:
        if snapshot is None or snapshot.state_version != cls.state_version:
            return None
        aggregate = cls(aggregate_id)
        try:
            aggregate.restore(json.loads(snapshot.state))
        except Exception:  # A snapshot is a cache: whatever is wrong with it, the history decides instead.
            logger.warning(
                "%s %s: ignored an unreadable snapshot at v%d", cls.aggregate_type, aggregate_id, snapshot.version
            )
            return None
        aggregate.version = snapshot.version
        return aggregate

    def _fold(self, aggregate: Aggregate, events: list[Event]) -> None:
        for event in events:
            for data in self._registry.decode(event):
                aggregate.apply(data)
            aggregate.version = event.version

    @staticmethod
    def _operation(command: Command) -> str:
        return f"{command.command_type} on {command.id}"

    def _attempt(
        self, command: Command, context: CommandContext, head: Head, unchecked: bool, admission: Admission
    ) -> CommandResult:
        binding = self._registry.binding(type(command))
        aggregate_type = binding.aggregate.aggregate_type
        aggregate: Aggregate | None = None
        if admission is Admission.IF_OWNER:
            # Ownership is read from the opened state, on every attempt: a retry after a conflict (a forget
            # that won the race, say) judges the winner's head. A cached refusal is judged again on the store's.
            aggregate = self.rebuild(aggregate_type, command.id, head)
            authorize_owner(context.principal, self._operation(command), command.audience, aggregate)
        earlier = head.command(context.command_id)
        if earlier and earlier.command != command.command_type:
            raise CommandIdReused(
                f"{command.command_type} on {aggregate_type} {command.id}: command id {context.command_id} "
                f"was already used for {earlier.command}"
            )
        if earlier:
            events = self._events_of(aggregate_type, command.id, head, earlier)
            # The first answer again, even if the aggregate moved on since: a retry must not see a new version.
            return CommandResult(aggregate_type, command.id, earlier.last, events, duplicate=True)
        if aggregate is None:
            aggregate = self.rebuild(aggregate_type, command.id, head)
        if binding.creates and aggregate.exists:
            raise DomainError(
                f"{command.command_type}: {aggregate_type} {command.id} already exists",
                aggregate_type=aggregate_type,
                aggregate_id=command.id,
            )
        if not binding.creates and not aggregate.exists:
            raise AggregateNotFound(aggregate_type, command.id, command.command_type)
        decided = aggregate.handle(command)
        if not decided:
            if unchecked:
                raise _Unchecked
            return CommandResult(aggregate_type, command.id, aggregate.version, ())
        metadata = Metadata(
            correlation_id=context.correlation_id or context.command_id,
            causation_id=context.causation_id or context.command_id,
            command=command.command_type,
            command_id=context.command_id,
            actor=context.principal.actor(),
        )
        expected = aggregate.version
        events = tuple(
            Event(
                aggregate_type=aggregate_type,
                aggregate_id=command.id,
                version=expected + offset,
                metadata=metadata,
                **self._registry.encode(data),
            )
            for offset, data in enumerate(decided, start=1)
        )
        for data in decided:
            aggregate.apply(data)
        aggregate.version = events[-1].version
        snapshot = self._snapshot(aggregate)
        self._store.append(events, expected, snapshot)
        # Types, ids and versions only: the events' data may hold personal fields (docs/privacy.md).
        logger.debug(
            "%s %s: committed %s at v%d-%d",
            aggregate_type,
            command.id,
            ", ".join(event.type for event in events),
            events[0].version,
            events[-1].version,
        )
        if self._cache is not None:
            record = command_record(events)
            commands = (*head.commands, record)[-RECENT_COMMANDS:] if record else head.commands
            self._cache.remember(aggregate_type, command.id, Head(aggregate.version, snapshot, (), commands))
        return CommandResult(aggregate_type, command.id, events[-1].version, events)

    def _snapshot(self, aggregate: Aggregate) -> Snapshot | None:
        try:
            state = json.dumps(aggregate.snapshot(), separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):  # state that is not JSON: no snapshot, commands replay instead
            return None
        return Snapshot(aggregate.version, aggregate.state_version, state)

    def _events_of(
        self, aggregate_type: str, aggregate_id: UUID, head: Head, record: CommandRecord
    ) -> tuple[Event, ...]:
        """The events a recent command appended: from the head when it still holds them, else one read."""
        wanted = range(record.first, record.last + 1)
        found = tuple(event for event in head.events if event.version in wanted)
        if len(found) == len(wanted):
            return found
        later = self._store.load(aggregate_type, aggregate_id, record.first - 1)
        return tuple(event for event in later if event.version in wanted)
