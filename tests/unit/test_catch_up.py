"""Catch-up from the event store: new consumers start from history, stream and catch-up never double count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector, InvitationProjector
from domain.invitation import AcceptInvite, CreateInvite, DeclineInvite
from domain.response_saga import ResponseSaga
from horizon.catchup import CHUNK, Slice, catch_up
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime
from horizon.errors import BadRequest, InvalidEvents
from horizon.events import Event, EventData
from horizon.memory import MemoryEventStore, MemoryReadStore
from horizon.readstore import ReadStore
from horizon.registry import Registry
from tests.catch_up_support import COUNTER_KEY, EventCounter, EventLog, long_history
from tests.principals import as_host

from .fakes import RecordingEventStore


def story(handler: CommandHandler, guests: int) -> list[UUID]:
    """`guests` invitations: every one created, the even ones accepted, the odd ones declined."""
    ids = []
    for index in range(guests):
        invite_id = uuid4()
        handler.handle(CreateInvite(id=invite_id, name=f"Guest {index}"), as_host())
        handler.handle(AcceptInvite(id=invite_id) if index % 2 == 0 else DeclineInvite(id=invite_id), as_host())
        ids.append(invite_id)
    return ids


def counters(reads: ReadStore) -> dict[str, Any]:
    document = reads.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    return document.body


def runtimes(registry: Registry, reads: ReadStore, events: MemoryEventStore) -> list[ProjectorRuntime]:
    return [ProjectorRuntime(p, registry, reads, events) for p in (InvitationProjector(), GuestListProjector(2))]


def streamed_in_part(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore, guests: int, delivered: int
) -> tuple[MemoryReadStore, list[ProjectorRuntime]]:
    """`story(guests)`, and both projectors fed the stream's first `delivered` commits before a catch-up."""
    story(handler, guests)
    reads = MemoryReadStore()
    projectors = runtimes(registry, reads, events)
    for commit in events.commits[:delivered]:
        for runtime in projectors:
            runtime.process(commit)
    return reads, projectors


def test_the_segments_of_the_store_list_every_aggregate_exactly_once(
    handler: CommandHandler, events: RecordingEventStore
) -> None:
    ids = story(handler, 12)
    listed = [ref.aggregate_id for segment in range(5) for ref in events.aggregates(segment, 5)]
    assert sorted(listed) == sorted(ids)
    assert {ref.version for ref in events.aggregates()} == {2}


@pytest.mark.parametrize(("segment", "total"), [(3, 3), (-1, 2), (0, 0)])
def test_a_segment_that_does_not_exist_is_refused(events: RecordingEventStore, segment: int, total: int) -> None:
    with pytest.raises(InvalidEvents, match="does not exist"):
        list(events.aggregates(segment, total))


def test_a_projector_added_after_the_history_was_written_catches_up_from_the_store(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    # GIVEN ten invitations whose stream records nobody consumed (a projector deployed next month)
    ids = story(handler, 10)
    reads = MemoryReadStore()
    # WHEN catch-up runs over three segments for both projectors
    reports = [catch_up(runtime, segment, 3) for runtime in runtimes(registry, reads, events) for segment in range(3)]
    # THEN every aggregate was offered once per projector and every view and counter is right
    assert sum(report.aggregates for report in reports) == 20
    assert counters(reads) == {**counters(reads), "num_guests": 10, "num_accepted": 5, "num_declined": 5}
    for index, invite_id in enumerate(ids):
        view = reads.get(InvitationProjector.name, str(invite_id))
        assert view is not None
        assert (view.body["status"], view.position) == ("accepted" if index % 2 == 0 else "declined", 2)


def test_catch_up_reads_each_aggregates_history_once_per_consumer_for_its_position_and_its_events(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    # positions to find: in documents, in tracking items and in ledgers
    reads, projectors = streamed_in_part(registry, handler, events, guests=6, delivered=4)
    events.load_calls = 0

    offered = [catch_up(runtime).events for runtime in projectors]

    assert events.load_calls == 2 * 6  # the per-aggregate projector and the guest list, one read per aggregate
    assert offered == [12 - 4, 12 - 4]
    assert (counters(reads)["num_guests"], counters(reads)["num_accepted"]) == (6, 3)


def test_catch_up_after_part_of_the_stream_was_consumed_counts_nothing_twice(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    # the stream delivered some commits before the catch-up started
    reads, projectors = streamed_in_part(registry, handler, events, guests=6, delivered=5)

    for runtime in projectors:
        catch_up(runtime)
    for commit in events.commits:  # and the stream goes on delivering everything again
        for runtime in projectors:
            runtime.process(commit)

    assert (counters(reads)["num_guests"], counters(reads)["num_accepted"]) == (6, 3)


def test_a_second_catch_up_offers_nothing_new(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    story(handler, 4)
    runtime = ProjectorRuntime(GuestListProjector(2), registry, MemoryReadStore(), events)
    assert catch_up(runtime).events == 8

    again = catch_up(runtime)

    assert (again.aggregates, again.events, again.failed) == (4, 0, {})


def test_a_saga_caught_up_twice_decides_and_sends_each_command_once(registry: Registry) -> None:
    events = RecordingEventStore()
    handler = CommandHandler(registry, events)
    story(handler, 6)  # three acceptances, limit 2: two confirmations and one denial
    saga = SagaRuntime(ResponseSaga(2), registry, MemoryReadStore(), events, handler)

    catch_up(saga)
    catch_up(saga)

    settled = [
        event.type for commit in events.commits for event in commit if event.type in {"InviteConfirmed", "InviteDenied"}
    ]
    assert sorted(settled) == ["InviteConfirmed", "InviteConfirmed", "InviteDenied"]


def test_a_slice_offers_only_its_aggregate_type_its_aggregate_or_what_changed_since(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    first, second = story(handler, 2)
    runtime = ProjectorRuntime(InvitationProjector(), registry, MemoryReadStore(), events)

    assert catch_up(runtime, where=Slice(aggregate_type="Other")).aggregates == 0
    assert catch_up(runtime, where=Slice(since=datetime.now(UTC) + timedelta(hours=1))).events == 0
    assert catch_up(runtime, 1, 2, where=Slice("Invitation", first)).aggregates == 0  # one aggregate: segment 0
    assert catch_up(runtime, where=Slice("Invitation", first)).events == 2
    assert runtime.position("Invitation", first) == 2
    assert runtime.position("Invitation", second) == 0
    with pytest.raises(BadRequest, match="needs its aggregate type"):
        catch_up(runtime, where=Slice(aggregate_id=second))


def test_from_version_past_the_position_lets_gap_repair_read_the_rest(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    (invite_id,) = story(handler, 1)
    runtime = ProjectorRuntime(GuestListProjector(2), registry, MemoryReadStore(), events)

    catch_up(runtime, where=Slice(from_version=2))

    assert runtime.position("Invitation", invite_id) == 2
    assert counters(runtime._reads)["num_guests"] == 1


class PoisonedCounter(EventCounter):
    """Fails on every event of one aggregate until `fixed`."""

    def __init__(self, poison: UUID) -> None:
        self.poison = poison
        self.fixed = False

    def project(self, current: Any, event: Event, data: EventData) -> Any:
        if event.aggregate_id == self.poison and not self.fixed:
            raise ValueError(f"cannot count {event.aggregate_id}")
        return super().project(current, event, data)


def test_a_poison_aggregate_parks_only_itself_and_a_later_catch_up_heals_it(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    poison, *healthy = story(handler, 4)
    counter = PoisonedCounter(poison)
    runtime = ProjectorRuntime(counter, registry, MemoryReadStore(), events)

    report = catch_up(runtime)
    assert list(report.failed) == [f"Invitation#{poison}"]
    assert "cannot count" in report.failed[f"Invitation#{poison}"]
    assert [runtime.position("Invitation", i) for i in healthy] == [2, 2, 2]

    counter.fixed = True
    assert catch_up(runtime).failed == {}
    tally = runtime._reads.get(EventCounter.name, COUNTER_KEY)
    assert tally is not None
    assert tally.body == {"events": 8}


class CommitSizes(MemoryReadStore):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.collections: list[set[str]] = []

    def commit(self, writes: Sequence[Any]) -> None:
        super().commit(writes)
        self.sizes.append(len(writes))
        self.collections.append({write.collection for write in writes})

    def writes_of(self, collection: str) -> int:
        """How many commits wrote a document of the collection."""
        return sum(collection in written for written in self.collections)


def test_a_gap_of_500_events_feeding_a_shared_counter_is_counted_once_in_small_transactions(
    registry: Registry,
) -> None:
    events = MemoryEventStore()
    history = long_history(events, 500)
    reads = CommitSizes()
    runtime = ProjectorRuntime(EventCounter(), registry, reads, events)

    runtime.process(history[-50:])  # the stream delivers only the last commit: a gap of 450
    runtime.process(history[:50])  # an old record redelivered
    catch_up(runtime)

    tally = reads.get(EventCounter.name, COUNTER_KEY)
    assert tally is not None
    assert tally.body == {"events": 500}
    assert max(reads.sizes) <= 100


class CrashingOnThirdCommit(CommitSizes):
    """Crashes once, on its third commit (a Lambda that timed out half way through a long gap repair)."""

    crashed = False

    def commit(self, writes: Sequence[Any]) -> None:
        if len(self.sizes) == 2 and not self.crashed:
            self.crashed = True
            raise TimeoutError("the function ran out of time")
        super().commit(writes)


def test_a_gap_repair_interrupted_between_its_chunks_resumes_from_the_last_position_written(
    registry: Registry,
) -> None:
    events = MemoryEventStore()
    history = long_history(events, 500)
    reads = CrashingOnThirdCommit()
    runtime = ProjectorRuntime(EventLog(), registry, reads, events)

    interrupted = runtime.process_batch([history[-1:]])
    position = runtime.position("Invitation", history[0].aggregate_id)
    redelivered = runtime.process_batch([history[-1:]])  # EventLog raises if any event is projected twice

    assert [str(error) for error in interrupted.values()] == ["the function ran out of time"]
    assert position == 198  # two chunks of 99 committed, each with its position
    assert redelivered == {}
    assert sorted(d.body["version"] for d in reads.list(EventLog.name, 1000).items) == list(range(1, 501))
    assert max(reads.sizes) <= 100


def test_catch_up_feeds_a_long_history_in_chunks_that_fit_one_transaction(registry: Registry) -> None:
    events = MemoryEventStore()
    long_history(events, 3 * CHUNK + 7)
    reads = CommitSizes()
    runtime = ProjectorRuntime(EventCounter(), registry, reads, events)

    catch_up(runtime)

    tally = reads.get(EventCounter.name, COUNTER_KEY)
    assert tally is not None
    assert tally.body == {"events": 3 * CHUNK + 7}
    # Each chunk writes the counter once, its position in the counter's ledger, then the tracking item alone.
    assert reads.sizes == [1] * 8
    assert reads.writes_of(EventCounter.name) == 4


def test_a_poison_commit_in_a_stream_batch_fails_only_its_aggregate(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    poison, *healthy = story(handler, 3)
    reads = MemoryReadStore()
    runtime = ProjectorRuntime(PoisonedCounter(poison), registry, reads, events)

    failed = runtime.process_batch(events.commits)

    assert [stream[1] for stream in failed] == [poison]
    assert [runtime.position("Invitation", i) for i in healthy] == [2, 2]


def test_catch_up_of_many_aggregates_writes_a_shared_document_once_per_batch(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    story(handler, 100)
    reads = CommitSizes()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)

    catch_up(runtime)

    assert counters(reads)["num_guests"] == 100
    assert reads.writes_of(GuestListProjector.name) <= 4
    assert max(reads.sizes) <= 100
