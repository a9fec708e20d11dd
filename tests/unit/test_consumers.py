"""Projector and saga runtimes: duplicates, reordering, conflicts, crashes, and durable saga state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector, InvitationProjector
from domain.invitation import AcceptInvite, ConfirmInvite, CreateInvite, DenyInvite
from domain.response_saga import ResponseSaga, Seats
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime
from horizon.errors import ReadModelConflict
from horizon.events import Event
from horizon.memory import MemoryReadStore
from horizon.readstore import ReadStore, Write
from horizon.registry import Registry
from tests.principals import as_host, as_saga

from .fakes import ConflictingReadStore, Crash, CrashingCommandHandler, RecordingEventStore, RefusingCommandHandler

Commit = tuple[Event, ...]


def body(reads: ReadStore, collection: str, key: str) -> dict[str, Any]:
    document = reads.get(collection, key)
    assert document is not None, f"{collection}/{key} is missing"
    return document.body


def guest_list(reads: ReadStore) -> dict[str, Any]:
    return body(reads, GuestListProjector.name, GUEST_LIST_KEY)


def view(reads: ReadStore, invite_id: UUID) -> dict[str, Any]:
    return body(reads, InvitationProjector.name, str(invite_id))


def counts(**numbers: int) -> dict[str, int]:
    """The guest-list body with the given counters (limit 2), every other counter 0."""
    zero = {"num_guests": 0, "num_accepted": 0, "num_declined": 0, "num_confirmed": 0, "num_denied": 0}
    return {**zero, **numbers, "guest_limit": 2}


def invite(handler: CommandHandler, name: str = "Athena") -> tuple[UUID, Commit]:
    invite_id = uuid4()
    return invite_id, handler.handle(CreateInvite(id=invite_id, name=name), as_host()).events


def types(events: RecordingEventStore, invite_id: UUID) -> list[str]:
    return [event.type for event in events.load("Invitation", invite_id)]


def projectors(registry: Registry, reads: ReadStore, events: RecordingEventStore) -> list[ProjectorRuntime]:
    return [ProjectorRuntime(p, registry, reads, events) for p in (InvitationProjector(), GuestListProjector(2))]


def deliver(runtimes: Sequence[ProjectorRuntime | SagaRuntime], *commits: Commit) -> None:
    for commit in commits:
        for runtime in runtimes:
            runtime.process(commit)


# Projector runtime


def test_a_commit_delivered_twice_is_counted_once(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    runtimes = projectors(registry, reads, events)
    invite_id, created = invite(handler)
    accepted = handler.handle(AcceptInvite(id=invite_id), as_host()).events

    deliver(runtimes, created, accepted, accepted, created)

    assert guest_list(reads) == counts(num_guests=1, num_accepted=1)
    assert view(reads, invite_id) == {
        "id": str(invite_id),
        "name": "Athena",
        "age": None,
        "status": "accepted",
        "version": 2,
    }


def test_a_commit_that_arrives_early_is_repaired_from_the_store_and_the_late_one_skipped(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN an invite created (v1), accepted (v2) and confirmed (v3)
    reads = MemoryReadStore()
    runtimes = projectors(registry, reads, events)
    invite_id, created = invite(handler)
    accepted = handler.handle(AcceptInvite(id=invite_id), as_host()).events
    confirmed = handler.handle(ConfirmInvite(id=invite_id), as_saga()).events
    # WHEN v3 arrives before v2
    deliver(runtimes, created, confirmed)
    # THEN the gap was read from the event store and the views are complete
    assert view(reads, invite_id) == {
        "id": str(invite_id),
        "name": "Athena",
        "age": None,
        "status": "confirmed",
        "version": 3,
    }
    assert guest_list(reads) == counts(num_guests=1, num_accepted=1, num_confirmed=1)
    # AND WHEN the late v2 arrives, it changes nothing
    before = reads.get_many([(GuestListProjector.name, GUEST_LIST_KEY), (InvitationProjector.name, str(invite_id))])
    deliver(runtimes, accepted)
    after = reads.get_many([(GuestListProjector.name, GUEST_LIST_KEY), (InvitationProjector.name, str(invite_id))])
    assert after == before


def test_a_first_delivery_that_skips_the_creation_reads_it_back(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    invite_id, _ = invite(handler, "Hades")
    accepted = handler.handle(AcceptInvite(id=invite_id), as_host()).events

    deliver(projectors(registry, reads, events), accepted)

    assert view(reads, invite_id) == {
        "id": str(invite_id),
        "name": "Hades",
        "age": None,
        "status": "accepted",
        "version": 2,
    }


def test_a_read_model_conflict_is_retried(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = ConflictingReadStore(conflicts=1)
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    invite_id, _ = invite(handler)

    runtime.process(handler.handle(AcceptInvite(id=invite_id), as_host()).events)

    # A conflict, the list again (the position in its ledger), then the tracking item.
    assert reads.commit_calls == 3
    assert guest_list(reads)["num_accepted"] == 1


class InterleavingReadStore(MemoryReadStore):
    """Runs another consumer's work between our reads and our next commit, so the commit really conflicts."""

    def __init__(self) -> None:
        super().__init__()
        self.interloper: tuple[ProjectorRuntime, Commit] | None = None

    def commit(self, writes: Sequence[Write]) -> None:
        if self.interloper is not None:
            runtime, commit = self.interloper
            self.interloper = None
            runtime.process(commit)
        super().commit(writes)


def test_a_concurrent_update_of_a_shared_document_is_not_lost(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN two acceptances, projected by two instances of the runtime at the same time
    reads = InterleavingReadStore()
    first, second = (ProjectorRuntime(GuestListProjector(2), registry, reads, events) for _ in range(2))
    athena, _ = invite(handler, "Athena")
    hades, _ = invite(handler, "Hades")
    reads.interloper = (second, handler.handle(AcceptInvite(id=hades), as_host()).events)
    # WHEN the other instance writes the guest list between our read and our write
    first.process(handler.handle(AcceptInvite(id=athena), as_host()).events)
    # THEN both acceptances are counted
    assert guest_list(reads)["num_accepted"] == 2


def test_conflicts_beyond_max_attempts_are_raised(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = ConflictingReadStore(conflicts=100)
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    invite_id, _ = invite(handler)

    with pytest.raises(ReadModelConflict):
        runtime.process(handler.handle(AcceptInvite(id=invite_id), as_host()).events)

    assert reads.commit_calls == 8


# Saga runtime


def saga(
    registry: Registry, reads: ReadStore, events: RecordingEventStore, handler: CommandHandler, limit: int = 2
) -> SagaRuntime:
    return SagaRuntime(ResponseSaga(limit), registry, reads, events, handler)


def accept(handler: CommandHandler, name: str) -> tuple[UUID, Commit]:
    invite_id, _ = invite(handler, name)
    return invite_id, handler.handle(AcceptInvite(id=invite_id), as_host()).events


def test_an_acceptance_makes_the_saga_confirm_the_invite(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    runtime = saga(registry, MemoryReadStore(), events, handler)
    invite_id, accepted = accept(handler, "Athena")

    runtime.process(accepted)

    assert types(events, invite_id) == ["InviteCreated", "InviteAccepted", "InviteConfirmed"]
    confirmed = events.load("Invitation", invite_id)[-1]
    assert confirmed.metadata.command == "ConfirmInvite"
    assert confirmed.metadata.causation_id == str(accepted[0].event_id)
    assert confirmed.metadata.correlation_id == accepted[0].metadata.correlation_id


def test_a_redelivered_acceptance_sends_no_second_command(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    runtime = saga(registry, reads, events, handler)
    _, accepted = accept(handler, "Athena")
    runtime.process(accepted)
    appends, loads = len(events.commits), events.load_calls

    runtime.process(accepted)

    assert (len(events.commits), events.load_calls) == (appends, loads)
    assert len(body(reads, ResponseSaga.name, "seats")["holders"]) == 1


def test_acceptances_past_the_limit_are_denied(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    runtime = saga(registry, MemoryReadStore(), events, handler, limit=1)
    athena, first = accept(handler, "Athena")
    hades, second = accept(handler, "Hades")

    deliver([runtime], first, second)

    assert types(events, athena)[-1] == "InviteConfirmed"
    assert types(events, hades)[-1] == "InviteDenied"


@pytest.mark.parametrize("after_send", [False, True], ids=["crash before send", "crash after send"])
def test_a_crash_around_the_send_repeats_the_send_on_redelivery_but_not_its_effect(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler, after_send: bool
) -> None:
    # GIVEN a saga whose process dies around sending its command, after its state was committed
    reads = MemoryReadStore()
    crashing = CrashingCommandHandler(registry, events, crashes=1, after_send=after_send)
    invite_id, accepted = accept(handler, "Athena")
    with pytest.raises(Crash):
        saga(registry, reads, events, crashing).process(accepted)
    seats = reads.get(ResponseSaga.name, "seats")  # the outbox waits in the ledger of the state it was decided in
    assert seats is not None
    assert seats.ledger is not None
    assert len(seats.ledger[f"Invitation#{invite_id}"]["outbox"]) == 1
    # WHEN the acceptance is delivered again, to a fresh runtime, twice
    runtime = saga(registry, reads, events, crashing)
    deliver([runtime], accepted, accepted)
    # THEN the outbox was flushed, the seat taken once, and exactly one InviteConfirmed exists
    assert types(events, invite_id) == ["InviteCreated", "InviteAccepted", "InviteConfirmed"]
    assert len(body(reads, ResponseSaga.name, "seats")["holders"]) == 1
    assert body(reads, *runtime.tracking_key(accepted[0])) == {"version": 2, "outbox": []}


def test_a_refused_confirmation_gives_its_seat_back_so_the_next_guest_is_confirmed(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN one seat, and an aggregate that refuses the saga's first confirmation
    reads = MemoryReadStore()
    runtime = saga(registry, reads, events, RefusingCommandHandler(registry, events, refusals=1), limit=1)
    athena, first = accept(handler, "Athena")
    hades, second = accept(handler, "Hades")
    # WHEN both acceptances arrive, Athena's twice
    deliver([runtime], first, first, second)
    # THEN Athena's refused confirmation did not keep the seat: Hades has it
    assert types(events, athena) == ["InviteCreated", "InviteAccepted"]
    assert types(events, hades)[-1] == "InviteConfirmed"
    assert body(reads, ResponseSaga.name, "seats") == {"holders": [str(hades)], "earlier": 0}


def test_giving_a_seat_back_twice_frees_it_once() -> None:
    saga_ = ResponseSaga(2)
    athena, hades = uuid4(), uuid4()
    seats = Seats(holders=[athena, hades])

    once = saga_.rejected(seats, ConfirmInvite(id=athena))
    twice = saga_.rejected(once, ConfirmInvite(id=athena))

    assert once == twice == Seats(holders=[hades])
    assert saga_.rejected(seats, DenyInvite(id=athena)) == seats


def test_seats_counted_by_the_earlier_saga_state_stay_taken(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    reads.commit([Write(ResponseSaga.name, "seats", {"confirmed": 2}, 0)])
    invite_id, accepted = accept(handler, "Poseidon")

    deliver([saga(registry, reads, events, handler, limit=2)], accepted)

    assert types(events, invite_id)[-1] == "InviteDenied"


def test_saga_state_survives_a_new_runtime_instance(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN two acceptances confirmed by one runtime instance with a limit of 2
    reads = MemoryReadStore()
    first_runtime = saga(registry, reads, events, handler, limit=2)
    first, second, third = (accept(handler, name) for name in ("Athena", "Hades", "Poseidon"))
    deliver([first_runtime], first[1], second[1])
    # WHEN a new instance (a cold Lambda) handles the third acceptance
    deliver([saga(registry, reads, events, handler, limit=2)], third[1])
    # THEN it knew both seats were taken
    assert [types(events, invite_id)[-1] for invite_id, _ in (first, second, third)] == [
        "InviteConfirmed",
        "InviteConfirmed",
        "InviteDenied",
    ]


class EverySeatSaga(ResponseSaga):
    """Would key every event it sees, but declares it reacts to acceptances only."""

    def state_key(self, event: Event) -> str | None:
        return "seats"


def test_a_saga_folds_no_event_of_a_type_it_does_not_declare(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    runtime = SagaRuntime(EverySeatSaga(2), registry, reads, events, handler)
    _, created = invite(handler)

    runtime.process(created)

    assert reads.get(ResponseSaga.name, "seats") is None
    assert len(events.commits) == 1


def test_a_saga_that_only_ever_sees_acceptances_confirms_each_once_after_one_read_of_the_skipped_creation(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    runtime = saga(registry, reads, events, handler)
    invite_id, accepted = accept(handler, "Athena")
    loads = events.load_calls

    runtime.process(accepted)
    runtime.process(accepted)

    # The creation read back once (the filter never delivered it), and the invitation loaded by the ConfirmInvite.
    assert events.load_calls - loads == 2
    assert types(events, invite_id) == ["InviteCreated", "InviteAccepted", "InviteConfirmed"]


def test_a_saga_passes_a_skipped_version_its_batch_vouches_is_of_a_type_it_does_not_react_to_without_a_read(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    runtime = saga(registry, reads, events, handler)
    invite_id, accepted = accept(handler, "Athena")
    loads = events.load_calls

    runtime.process_batch([accepted], {accepted[0].stream: {1: "InviteCreated"}})
    runtime.process_batch([accepted], {accepted[0].stream: {1: "InviteCreated"}})

    assert events.load_calls - loads == 1  # only the ConfirmInvite's own load of the invitation
    assert types(events, invite_id) == ["InviteCreated", "InviteAccepted", "InviteConfirmed"]
    assert runtime.position("Invitation", invite_id) == 2


def test_a_skipped_version_of_a_type_the_saga_reacts_to_is_read_back_whatever_the_batch_vouches(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    runtime = saga(registry, MemoryReadStore(), events, handler)
    _, accepted = accept(handler, "Athena")
    loads = events.load_calls

    runtime.process_batch([accepted], {accepted[0].stream: {1: "InviteAccepted"}})

    assert events.load_calls - loads == 2  # the gap read back, and the ConfirmInvite's load


def test_the_guest_list_passes_a_creation_its_stream_batch_vouches_for_and_counts_the_acceptance_once(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    _, accepted = accept(handler, "Athena")
    loads = events.load_calls

    runtime.process_batch([accepted], {accepted[0].stream: {1: "InviteCreated"}})
    runtime.process_batch([accepted], {accepted[0].stream: {1: "InviteCreated"}})

    assert events.load_calls == loads
    assert guest_list(reads) == counts(num_guests=1, num_accepted=1)
