"""Runtimes that feed commits to projectors and sagas exactly once in effect.

Delivery from DynamoDB Streams is at least once and, across a partial batch failure, can run ahead of a failed
record. Each consumer therefore keeps a tracking document per aggregate ("last version I applied") and commits it
in the same conditional write as the documents it changed:
- a commit at or below the tracked version is a duplicate and is skipped;
- a commit that starts past tracked + 1 is a gap, and the missing events are read back from the event store;
- a concurrent writer makes the conditional write fail, and the commit is processed again from fresh reads.
A saga's commands go into the tracking document's outbox in that same write and are sent afterwards with ids
derived from the causing event, so a crash between the write and the send repeats the send, never the decision.
"""

from __future__ import annotations

import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from horizon.authorization import Principal
from horizon.command_handler import CommandContext, CommandHandler
from horizon.commands import Command
from horizon.errors import AggregateNotFound, DomainError, ReadModelConflict
from horizon.events import Event, EventData
from horizon.eventstore import EventStore
from horizon.projection import Projector, Saga
from horizon.readstore import Document, DocumentKey, ReadStore, Write
from horizon.registry import Registry
from horizon.retry import CONSUMER_CONFLICTS, RetryPolicy

logger = logging.getLogger(__name__)

_COMMAND_IDS = uuid.UUID("6f1d2b8e-4a59-4c4b-9a57-8d3b8e6e2f10")


class TrackedConsumer(ABC):
    """Shared bookkeeping of projector and saga runtimes: tracking, dedup, gap repair, conditional commit."""

    model: type[BaseModel]

    def __init__(
        self,
        name: str,
        registry: Registry,
        reads: ReadStore,
        events: EventStore,
        *,
        retry: RetryPolicy = CONSUMER_CONFLICTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self._registry = registry
        self._reads = reads
        self._events = events
        self._retry = retry
        self._sleep = sleep

    def process(self, commit: Sequence[Event]) -> None:
        """Apply one commit (events of one aggregate, consecutive versions) to this consumer."""
        if commit:
            self._retry.run(
                lambda: self._process_once(commit),
                ReadModelConflict,
                sleep=self._sleep,
                on_retry=lambda error, attempt: logger.info(
                    "%s: conflict on %s (attempt %d), retrying", self.name, _describe(commit), attempt
                ),
            )

    def tracking_key(self, event: Event) -> DocumentKey:
        """Where this consumer records how far it got in the event's aggregate."""
        return (f"_tracking.{self.name}", f"{event.aggregate_type}#{event.aggregate_id}")

    def _process_once(self, commit: Sequence[Event]) -> None:
        head = commit[0]
        tracking_key = self.tracking_key(head)
        # One read for the tracking position and every document the commit may touch.
        keys = {key for event in commit for key in self.keys(event)}
        documents = self._reads.get_many([tracking_key, *sorted(keys)])
        tracking = documents.pop(tracking_key, None)
        if tracking and tracking.body.get("outbox"):
            tracking = self.flush(tracking)
        position = int(tracking.body["version"]) if tracking else 0
        last = commit[-1].version
        if last <= position:
            logger.info("%s: skipped duplicate %s at tracked version %d", self.name, _describe(commit), position)
            return
        events = [event for event in commit if event.version > position]
        if events[0].version != position + 1:
            logger.warning(
                "%s: gap before %s at tracked version %d, reading the store", self.name, _describe(commit), position
            )
            events = [
                e for e in self._events.load(head.aggregate_type, head.aggregate_id, position) if e.version <= last
            ]
            if not events or events[0].version != position + 1:
                raise LookupError(f"{self.name}: the store has no events after v{position} for {_describe(commit)}")
            missing = {key for event in events for key in self.keys(event)} - keys
            documents.update(self._reads.get_many(sorted(missing)) if missing else {})
            keys |= missing
        decoded = [(event, data) for event in events for data in self._registry.decode(event)]
        working: dict[DocumentKey, dict[str, Any] | None] = {k: d.body for k, d in documents.items()}
        outbox: list[dict[str, Any]] = []
        for event, data in decoded:
            outbox.extend(self.fold(working, event, data))
        writes = [
            Write(c, k, body, documents[(c, k)].revision if (c, k) in documents else 0)
            for (c, k), body in working.items()
            if (c, k) in keys and (body is not None or (c, k) in documents)
        ]
        tracking_body = {"version": events[-1].version, "outbox": outbox}
        tracked_revision = tracking.revision if tracking else 0
        writes.append(Write(*tracking_key, tracking_body, tracked_revision))
        self._reads.commit(writes)
        if outbox:
            self.flush(Document(*tracking_key, tracking_body, tracked_revision + 1))

    def keys(self, event: Event) -> list[DocumentKey]:
        """The document an event will read and write, if any: one per consumer and event at most."""
        key = self.key_of(event)
        return [] if key is None else [(self.name, key)]

    def fold(
        self, working: dict[DocumentKey, dict[str, Any] | None], event: Event, data: EventData
    ) -> list[dict[str, Any]]:
        """Apply one event to the working documents; return outbox entries (commands to send)."""
        outbox: list[dict[str, Any]] = []
        for key in self.keys(event):
            body = working.get(key)
            current = None if body is None else self.model.model_validate(body)
            result, commands = self.step(current, event, data)
            working[key] = None if result is None else result.model_dump(mode="json")
            outbox.extend(
                {
                    "type": command.command_type,
                    "body": command.model_dump_json(),
                    "command_id": str(uuid.uuid5(_COMMAND_IDS, f"{self.name}:{event.event_id}:{index}")),
                    "correlation_id": event.metadata.correlation_id,
                    "causation_id": str(event.event_id),
                    "state": key[1],
                }
                for index, command in enumerate(commands)
            )
        return outbox

    @abstractmethod
    def key_of(self, event: Event) -> str | None:
        """The key of the document this event concerns, or None to only advance the tracking position."""

    @abstractmethod
    def step(self, current: Any, event: Event, data: EventData) -> tuple[BaseModel | None, Sequence[Command]]:
        """The next document for one event, and the commands it causes (ids derived from the event)."""

    def flush(self, tracking: Document) -> Document:
        """Send the outbox of a tracking document and clear it; sagas override this."""
        return tracking


class ProjectorRuntime(TrackedConsumer):
    """Runs one projector; its read models live in the collection named after it."""

    def __init__(self, projector: Projector[Any], registry: Registry, reads: ReadStore, events: EventStore) -> None:
        super().__init__(projector.name, registry, reads, events)
        self.projector = projector
        self.model = projector.model

    def key_of(self, event: Event) -> str | None:
        """The read model an event changes, if any."""
        return self.projector.document_key(event)

    def step(self, current: Any, event: Event, data: EventData) -> tuple[BaseModel | None, Sequence[Command]]:
        """Project one event into its read model; projectors send no commands."""
        return self.projector.project(current, event, data), ()


class SagaRuntime(TrackedConsumer):
    """Runs one saga; its state lives in the collection named after it, its commands go through the handler."""

    def __init__(
        self, saga: Saga[Any], registry: Registry, reads: ReadStore, events: EventStore, commands: CommandHandler
    ) -> None:
        super().__init__(saga.name, registry, reads, events)
        self.saga = saga
        self.model = saga.model
        self._commands = commands

    def key_of(self, event: Event) -> str | None:
        """The saga state an event concerns, if any."""
        return self.saga.state_key(event)

    def step(self, current: Any, event: Event, data: EventData) -> tuple[BaseModel | None, Sequence[Command]]:
        """Let the saga react to one event."""
        return self.saga.react(current, event, data)

    def flush(self, tracking: Document) -> Document:
        """Send every outbox command (idempotent by command id), then clear the outbox."""
        for entry in tracking.body.get("outbox", []):
            command = self._registry.binding(entry["type"]).model.model_validate_json(entry["body"])
            context = CommandContext(
                entry["command_id"],
                entry["correlation_id"],
                entry["causation_id"],
                principal=Principal.of_saga(self.name, entry["causation_id"]),
            )
            try:
                self._commands.handle(command, context)
            except (DomainError, AggregateNotFound) as rejected:
                # The world moved on since the saga decided; retrying would be rejected forever, so the saga
                # hears of it instead (e.g. gives a seat back) before the outbox entry is cleared.
                logger.warning("%s: %s was rejected: %s", self.name, entry["type"], rejected)
                if "state" in entry:
                    self._tell_rejected(entry["state"], command)
        cleared = {**tracking.body, "outbox": []}
        self._reads.commit([Write(tracking.collection, tracking.key, cleared, tracking.revision)])
        return Document(tracking.collection, tracking.key, cleared, tracking.revision + 1)

    def _tell_rejected(self, key: str, command: Command) -> None:
        def once() -> None:
            document = self._reads.get(self.name, key)
            current = None if document is None else self.model.model_validate(document.body)
            after = self.saga.rejected(current, command)
            if after != current:
                body = None if after is None else after.model_dump(mode="json")
                self._reads.commit([Write(self.name, key, body, document.revision if document else 0)])

        self._retry.run(once, ReadModelConflict, sleep=self._sleep)


def _describe(commit: Sequence[Event]) -> str:
    head = commit[0]
    return f"{head.aggregate_type} {head.aggregate_id} v{head.version}-{commit[-1].version}"
