"""The guest-list story end to end in memory: four guests, two seats, one saga, two read models."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain import build_projectors, build_registry, build_sagas
from domain.guest_list import GUEST_LIST_KEY
from domain.invitation import AcceptInvite, CreateInvite, DeclineInvite
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime, TrackedConsumer
from horizon.errors import DomainError
from horizon.memory import MemoryReadStore
from tests.principals import as_host

from .fakes import RecordingEventStore, Stream

GUEST_LIMIT = 2
GUESTS = ("Athena", "Hades", "Zeus", "Poseidon")


def test_the_guest_list_story() -> None:
    # GIVEN the guest-list domain on memory stores, with every consumer fed from the commit stream
    registry = build_registry()
    events = RecordingEventStore()
    reads = MemoryReadStore()
    handler = CommandHandler(registry, events, sleep=lambda seconds: None)
    consumers: list[TrackedConsumer] = [
        ProjectorRuntime(p, registry, reads, events) for p in build_projectors(GUEST_LIMIT)
    ]
    consumers += [SagaRuntime(s, registry, reads, events, handler) for s in build_sagas(GUEST_LIMIT)]
    stream = Stream(events, consumers)
    ids: dict[str, UUID] = {name: uuid4() for name in GUESTS}

    # WHEN four guests are invited
    for name, invite_id in ids.items():
        handler.handle(CreateInvite(id=invite_id, name=name, age=42 if name == "Athena" else None), as_host())
    # AND Athena accepts, then changes her mind too late
    handler.handle(AcceptInvite(id=ids["Athena"]), as_host())
    stream.pump()
    with pytest.raises(DomainError, match="Athena already accepted"):
        handler.handle(DeclineInvite(id=ids["Athena"]), as_host())
    # AND Hades accepts, Zeus declines, Poseidon accepts when both seats are gone
    handler.handle(AcceptInvite(id=ids["Hades"]), as_host())
    stream.pump()
    handler.handle(DeclineInvite(id=ids["Zeus"]), as_host())
    stream.pump()
    handler.handle(AcceptInvite(id=ids["Poseidon"]), as_host())
    stream.pump()

    # THEN each invitation view shows the outcome
    statuses = {}
    for name, invite_id in ids.items():
        document = reads.get("Invitation", str(invite_id))
        assert document is not None
        statuses[name] = document.body["status"]
    assert statuses == {"Athena": "confirmed", "Hades": "confirmed", "Zeus": "declined", "Poseidon": "denied"}
    # AND the guest list counts them
    guest_list = reads.get("GuestList", GUEST_LIST_KEY)
    assert guest_list is not None
    assert guest_list.body == {
        "num_guests": 4,
        "num_accepted": 3,
        "num_declined": 1,
        "num_confirmed": 2,
        "num_denied": 1,
        "guest_limit": GUEST_LIMIT,
    }
    # AND Poseidon's history tells his story
    history = events.load("Invitation", ids["Poseidon"])
    assert [(event.type, event.version) for event in history] == [
        ("InviteCreated", 1),
        ("InviteAccepted", 2),
        ("InviteDenied", 3),
    ]
    # AND the denial is traced back to Poseidon's acceptance
    assert history[2].metadata.causation_id == str(history[1].event_id)
    assert history[2].metadata.correlation_id == history[1].metadata.correlation_id
    # AND Athena's view kept her age
    athena = reads.get("Invitation", str(ids["Athena"]))
    assert athena is not None
    assert athena.body["age"] == 42


def test_replaying_the_whole_stream_changes_nothing() -> None:
    # GIVEN a finished story with two guests and one seat
    registry = build_registry()
    events = RecordingEventStore()
    reads = MemoryReadStore()
    handler = CommandHandler(registry, events)
    consumers: list[TrackedConsumer] = [ProjectorRuntime(p, registry, reads, events) for p in build_projectors(1)]
    consumers += [SagaRuntime(s, registry, reads, events, handler) for s in build_sagas(1)]
    stream = Stream(events, consumers)
    for name in ("Athena", "Hades"):
        invite_id = uuid4()
        handler.handle(CreateInvite(id=invite_id, name=name), as_host())
        handler.handle(AcceptInvite(id=invite_id), as_host())
    stream.pump()
    snapshot = {c: reads.list(c, 100).items for c in ("Invitation", "GuestList", "ResponseSaga")}
    appends = len(events.commits)

    # WHEN every commit is delivered again from the start (a replayed stream)
    stream.position = 0
    stream.pump()

    # THEN no command was sent and no read model moved
    assert len(events.commits) == appends
    assert {c: reads.list(c, 100).items for c in snapshot} == snapshot
