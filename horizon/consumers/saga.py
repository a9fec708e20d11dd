"""The runtime of one saga: its state and outbox, its commands sent through the command handler."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from horizon import telemetry
from horizon.authorization import Principal
from horizon.command_handler import CommandContext, CommandHandler
from horizon.commands import Command
from horizon.consumers.ledger import Outbox
from horizon.consumers.tracked import TrackedConsumer
from horizon.errors import AggregateNotFound, DomainError, ReadModelConflict
from horizon.events import Event, EventData
from horizon.eventstore import EventStore
from horizon.projection import Saga
from horizon.readstore import ReadStore, Write
from horizon.registry import Registry

logger = logging.getLogger(__name__)


class SagaRuntime(TrackedConsumer):
    """Runs one saga; its state lives in the collection named after it, its commands go through the handler."""

    def __init__(
        self, saga: Saga[Any], registry: Registry, reads: ReadStore, events: EventStore, commands: CommandHandler
    ) -> None:
        super().__init__(saga.name, registry, reads, events)
        self.saga = saga
        self.model = saga.model
        self.reacts_to = saga.reacts_to
        self._commands = commands

    def key_of(self, event: Event) -> str | None:
        """The saga state an event concerns, if any."""
        return self.saga.state_key(event)

    def step(self, current: Any, event: Event, data: EventData) -> tuple[BaseModel | None, Sequence[Command]]:
        """Let the saga react to one event."""
        return self.saga.react(current, event, data)

    def send(self, outbox: Outbox) -> None:
        """Send every outbox command (idempotent by command id); the caller then records the outbox as sent."""
        for entry in outbox:
            command = self._registry.binding(entry["type"]).model.model_validate_json(entry["body"])
            context = CommandContext(
                entry["command_id"],
                entry["correlation_id"],
                entry["causation_id"],
                principal=Principal.of_saga(self.name, entry["causation_id"]),
            )
            try:
                self._commands.handle(command, context)
                telemetry.current().count(telemetry.SAGA_DECISIONS)
            except (DomainError, AggregateNotFound) as rejected:
                # The world moved on since the saga decided; retrying would be rejected forever, so the saga
                # hears of it instead (e.g. gives a seat back) before the outbox entry is cleared. The log names
                # the command, never the message: a domain message may quote personal data (docs/privacy.md).
                logger.warning(
                    "%s: %s on %s was rejected (%s)", self.name, entry["type"], command.id, type(rejected).__name__
                )
                if "state" in entry:
                    self._tell_rejected(entry["state"], command)

    def _tell_rejected(self, key: str, command: Command) -> None:
        def once() -> None:
            document = self._reads.get(self.name, key)
            current = None if document is None else self.model.model_validate(document.body)
            after = self.saga.rejected(current, command)
            if after != current:
                body = None if after is None else after.model_dump(mode="json")
                # The ledger stays: positions it holds may not have reached their tracking items yet.
                ledger = document.ledger if document else None
                self._reads.commit([Write(self.name, key, body, document.revision if document else 0, ledger=ledger)])

        self._retry.run(once, ReadModelConflict, sleep=self._sleep)
