"""Shared by the catch-up tests on the memory and the moto stores: a shared counter and long histories."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel

from horizon.events import Event, EventData, Metadata
from horizon.eventstore import EventStore
from horizon.projection import Projector

COUNTER_KEY = "all"


class Tally(BaseModel):
    """How many events the counter saw."""

    events: int = 0


class EventCounter(Projector[Tally]):
    """One document shared by every aggregate: each event adds one."""

    name: ClassVar[str] = "EventCounter"
    model = Tally

    def document_key(self, event: Event) -> str | None:
        return COUNTER_KEY

    def project(self, current: Tally | None, event: Event, data: EventData) -> Tally | None:
        return Tally(events=(current.events if current else 0) + 1)


class Seen(BaseModel):
    """One event, seen once."""

    version: int


class EventLog(Projector[Seen]):
    """A document per event: a gap repair of N events writes N different documents."""

    name: ClassVar[str] = "EventLog"
    model = Seen

    def document_key(self, event: Event) -> str | None:
        return f"{event.aggregate_id}#{event.version}"

    def project(self, current: Seen | None, event: Event, data: EventData) -> Seen | None:
        if current is not None:
            raise AssertionError(f"{event.aggregate_id} v{event.version} projected twice")
        return Seen(version=event.version)


def acceptances(aggregate_id: UUID, first: int, last: int) -> list[Event]:
    """Events first..last of one invitation, all InviteAccepted (the store does not check domain rules)."""
    meta = Metadata(correlation_id="test", causation_id="test", command="AcceptInvite")
    return [
        Event(aggregate_type="Invitation", aggregate_id=aggregate_id, version=v, type="InviteAccepted", metadata=meta)
        for v in range(first, last + 1)
    ]


def long_history(store: EventStore, length: int, per_commit: int = 50) -> list[Event]:
    """A new invitation with `length` events, appended `per_commit` at a time; returns every event."""
    aggregate_id = uuid4()
    events = acceptances(aggregate_id, 1, length)
    for start in range(0, length, per_commit):
        store.append(events[start : start + per_commit], start)
    return events
