"""Command handling: load, decide, append with the expected version; retry on a concurrent writer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from horizon.aggregate import Aggregate
from horizon.authorization import Principal, authorize
from horizon.commands import Command
from horizon.errors import AggregateNotFound, CommandIdReused, ConcurrencyError, DomainError
from horizon.events import Event, Metadata
from horizon.eventstore import EventStore
from horizon.history import replay
from horizon.registry import Registry
from horizon.retry import COMMAND_CONFLICTS, RetryPolicy


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


class CommandHandler:
    """Runs commands against aggregates kept in an event store."""

    def __init__(
        self,
        registry: Registry,
        store: EventStore,
        *,
        retry: RetryPolicy = COMMAND_CONFLICTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._registry = registry
        self._store = store
        self._retry = retry
        self._sleep = sleep

    def handle(self, command: Command, context: CommandContext) -> CommandResult:
        """Apply one command; raise Forbidden, DomainError, AggregateNotFound, or ConcurrencyError after retries."""
        # The one place every entry point passes through, so no route, saga or CLI can skip the audience check.
        authorize(context.principal, f"{command.command_type} on {command.id}", command.audience)
        return self._retry.run(lambda: self._attempt(command, context), ConcurrencyError, sleep=self._sleep)

    def load(self, aggregate_type: str, aggregate_id: UUID) -> tuple[Aggregate, list[Event]]:
        """Rebuild an aggregate from its full history (version 0 when it has none)."""
        history = self._store.load(aggregate_type, aggregate_id)
        return replay(self._registry, aggregate_type, aggregate_id, history), history

    def _attempt(self, command: Command, context: CommandContext) -> CommandResult:
        binding = self._registry.binding(type(command))
        aggregate_type = binding.aggregate.aggregate_type
        aggregate, history = self.load(aggregate_type, command.id)
        earlier = tuple(e for e in history if e.metadata.command_id == context.command_id)
        if earlier and earlier[0].metadata.command != command.command_type:
            raise CommandIdReused(
                f"{command.command_type} on {aggregate_type} {command.id}: command id {context.command_id} "
                f"was already used for {earlier[0].metadata.command}"
            )
        if earlier:
            # The first answer again, even if the aggregate moved on since: a retry must not see a new version.
            return CommandResult(aggregate_type, command.id, earlier[-1].version, earlier, duplicate=True)
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
            return CommandResult(aggregate_type, command.id, aggregate.version, ())
        metadata = Metadata(
            correlation_id=context.correlation_id or context.command_id,
            causation_id=context.causation_id or context.command_id,
            command=command.command_type,
            command_id=context.command_id,
            actor=context.principal.actor(),
        )
        events = tuple(
            Event(
                aggregate_type=aggregate_type,
                aggregate_id=command.id,
                version=aggregate.version + offset,
                metadata=metadata,
                **self._registry.encode(data),
            )
            for offset, data in enumerate(decided, start=1)
        )
        self._store.append(events, aggregate.version)
        return CommandResult(aggregate_type, command.id, events[-1].version, events)
