"""What a shared-document consumer reads per batch: the strong reads it can prove needless are not made."""

from __future__ import annotations

from uuid import uuid4

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector, InvitationProjector
from domain.invitation import AcceptInvite, CreateInvite
from domain.response_saga import ResponseSaga
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime
from horizon.consumers.projector import follow_live
from horizon.events import Event
from horizon.generations import GENERATIONS
from horizon.readstore import Write
from horizon.registry import Registry
from tests.principals import as_host

from .fakes import ReadRecordingStore, RecordingEventStore

TRACKING = f"_tracking.{GuestListProjector.name}"


def acceptances(handler: CommandHandler, count: int) -> list[tuple[str, tuple[Event, ...]]]:
    result = []
    for _ in range(count):
        invite = uuid4()
        handler.handle(CreateInvite(id=invite, name="Guest"), as_host())
        result.append((f"Invitation#{invite}", handler.handle(AcceptInvite(id=invite), as_host()).events))
    return result


def test_a_projector_functions_runtimes_read_every_generation_pointer_in_one_request(registry: Registry) -> None:
    events = RecordingEventStore()
    reads = ReadRecordingStore()
    reads.commit([Write(GENERATIONS, GuestListProjector.name, {"live": 3}, 0)])  # the guest list was rebuilt
    runtimes = [
        ProjectorRuntime(projector, registry, reads, events)
        for projector in (InvitationProjector(), GuestListProjector(2))
    ]
    reads.read.clear()
    reads.requests.clear()

    follow_live(runtimes)

    assert reads.requests == [[(GENERATIONS, InvitationProjector.name), (GENERATIONS, GuestListProjector.name)]]
    assert [runtime.name for runtime in runtimes] == [InvitationProjector.name, f"{GuestListProjector.name}@3"]
    # AND the batch that follows reads no pointer again
    commits = [events for _, events in acceptances(CommandHandler(registry, events), 2)]
    for runtime in runtimes:
        assert runtime.process_batch(commits) == {}
    assert not [key for key in reads.read[2:] if key[0] == GENERATIONS]
    assert reads.get(f"{GuestListProjector.name}@3", GUEST_LIST_KEY) is not None


def test_an_invitation_created_and_not_yet_answered_costs_the_guest_list_no_read(registry: Registry) -> None:
    events = RecordingEventStore()
    handler = CommandHandler(registry, events)
    reads = ReadRecordingStore()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    created = handler.handle(CreateInvite(id=uuid4(), name="Guest"), as_host()).events
    # A first commit the list does not react to can be neither a duplicate nor after a gap: nothing to read
    assert runtime.process_batch([created]) == {}
    # (The live generation's pointer is read once per 10 s whatever the batch holds.)
    assert [key for key in reads.read if key[0] != "_generations"] == []
    assert reads.get(GuestListProjector.name, GUEST_LIST_KEY) is None


def test_a_warm_consumer_drops_the_ledger_it_settled_itself_without_reading_those_positions_again(
    registry: Registry,
) -> None:
    events = RecordingEventStore()
    handler = CommandHandler(registry, events)
    reads = ReadRecordingStore()
    runtime = ProjectorRuntime(GuestListProjector(5), registry, reads, events)
    (first, a), (second, b), (third, c) = acceptances(handler, 3)
    reads.tracking_reads()
    assert runtime.process_batch([a, b]) == {}
    assert sorted(reads.tracking_reads()) == sorted([first, second])
    # WHEN the same consumer takes the next commit, whose list still carries the first two positions in its ledger
    assert runtime.process_batch([c]) == {}
    # THEN it reads only the new aggregate's position: it wrote the other two itself, and items only move forward
    assert reads.tracking_reads() == [third]
    document = reads.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    assert (document.body["num_accepted"], set(document.ledger or {})) == (3, {third})


def test_another_consumer_instance_still_reads_the_positions_of_a_ledger_before_dropping_it(
    registry: Registry,
) -> None:
    events = RecordingEventStore()
    handler = CommandHandler(registry, events)
    reads = ReadRecordingStore()
    (first, a), (second, b) = acceptances(handler, 2)
    ProjectorRuntime(GuestListProjector(5), registry, reads, events).process_batch([a])
    reads.tracking_reads()
    # A cold container knows nothing it did not read: the ledger's position is read strongly, as before
    assert ProjectorRuntime(GuestListProjector(5), registry, reads, events).process_batch([b]) == {}
    assert sorted(reads.tracking_reads()) == sorted([first, second])


def test_a_warm_saga_sends_each_decision_once_and_reads_each_position_once(registry: Registry) -> None:
    events = RecordingEventStore()
    handler = CommandHandler(registry, events)
    reads = ReadRecordingStore()
    saga = SagaRuntime(ResponseSaga(5), registry, reads, events, handler)
    commits = acceptances(handler, 4)
    reads.tracking_reads()
    for index in (0, 2):
        assert saga.process_batch([commits[index][1], commits[index + 1][1]]) == {}
    # Each acceptance's position was read once, when it was decided; none again when its ledger was dropped
    assert sorted(reads.tracking_reads()) == sorted(aggregate for aggregate, _ in commits)
    decided = [event.type for commit in events.commits for event in commit if event.type == "InviteConfirmed"]
    assert len(decided) == 4
