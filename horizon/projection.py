"""What a domain writes to react to events: projectors (read models) and sagas (events → commands).

Both are pure: they get the current document and an event and return the next document. The runtimes in
`horizon.consumers` load, deduplicate, order and store; a projector or saga never touches storage.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from horizon.commands import Command
from horizon.events import Event, EventData

ModelT = TypeVar("ModelT", bound=BaseModel)

EventTypes = frozenset[str] | None
"""The stored event types (`Event.type`) a consumer reacts to; None: every type. A type an upcaster renames is
stored under its old name too, and is listed under both."""


class Projector(ABC, Generic[ModelT]):
    """Keeps one collection of read models (`name`) of type `model` up to date."""

    name: ClassVar[str]
    model: type[ModelT]
    per_aggregate: ClassVar[bool] = False
    """True when each document follows one aggregate only (no other aggregate's events touch it) and is never
    deleted: the runtime then keeps the aggregate's position beside the document and writes it with one
    single-item conditional write, instead of a transaction with a separate tracking document."""
    reacts_to: ClassVar[EventTypes] = None
    """The event types this projector reacts to (None: all). The runtime folds no other type, and a queued
    consumer's subscription only delivers commits that hold one of them (docs/deploy.md, "Fan-out")."""

    @abstractmethod
    def document_key(self, event: Event) -> str | None:
        """The key of the read model this event changes, or None when the projector ignores the event."""

    @abstractmethod
    def project(self, current: ModelT | None, event: Event, data: EventData) -> ModelT | None:
        """Return the read model after the event; None deletes it."""


class Saga(ABC, Generic[ModelT]):
    """Turns events into commands, with durable state of type `model` (never process memory)."""

    name: ClassVar[str]
    model: type[ModelT]
    reacts_to: ClassVar[EventTypes] = None
    """The event types this saga reacts to (None: all). The runtime folds no other type, and its queue's
    subscription only delivers commits that hold one of them (docs/deploy.md, "Fan-out")."""

    @abstractmethod
    def state_key(self, event: Event) -> str | None:
        """The key of the saga state this event concerns, or None when the saga ignores the event."""

    @abstractmethod
    def react(self, state: ModelT | None, event: Event, data: EventData) -> tuple[ModelT | None, Sequence[Command]]:
        """Return the next state and the commands to send because of this event."""

    def rejected(self, state: ModelT | None, command: Command) -> ModelT | None:
        """Return the state after the aggregate refused one of this saga's commands (default: unchanged).

        Must be idempotent: a crash can make the runtime report the same rejection twice.
        """
        return state


def reacting_to(consumers: Iterable[Projector[Any] | Saga[Any]]) -> EventTypes:
    """The event types any of these consumers reacts to: their union, or None when one reacts to every type."""
    return joined(consumer.reacts_to for consumer in consumers)


def joined(declared: Iterable[EventTypes]) -> EventTypes:
    """The union of these declarations, or None when one of them is every type (None); none at all: no type."""
    found: set[str] = set()
    for types in declared:
        if types is None:
            return None
        found |= types
    return frozenset(found)


def concerns(types: EventTypes, event_types: Iterable[str]) -> bool:
    """Whether a commit of these event types concerns a consumer that reacts to `types`."""
    return types is None or not types.isdisjoint(event_types)
