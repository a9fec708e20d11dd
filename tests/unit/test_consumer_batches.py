"""A batch of commits is folded together: each document is written once per group, exactly once in effect."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector, InvitationProjector
from domain.invitation import AcceptInvite, CreateInvite
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime
from horizon.events import Event
from horizon.memory import MemoryReadStore
from horizon.readstore import Document, Write
from horizon.registry import Registry
from tests.principals import as_host

from .fakes import ConflictingReadStore, RecordingEventStore


class CountingReadStore(MemoryReadStore):
    """Counts how often each document is written, and the size of every commit."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[tuple[str, str], int] = {}
        self.commit_sizes: list[int] = []

    def commit(self, writes: Sequence[Write]) -> None:
        super().commit(writes)
        self.commit_sizes.append(len(writes))
        for write in writes:
            key = (write.collection, write.key)
            self.writes[key] = self.writes.get(key, 0) + 1


def accepted_invites(handler: CommandHandler, count: int) -> list[tuple[Event, ...]]:
    commits: list[tuple[Event, ...]] = []
    for _ in range(count):
        invite = uuid4()
        commits.append(handler.handle(CreateInvite(id=invite, name="Guest"), as_host()).events)
        commits.append(handler.handle(AcceptInvite(id=invite), as_host()).events)
    return commits


def test_a_batch_across_100_aggregates_writes_the_guest_list_at_most_twice(registry: Registry) -> None:
    # GIVEN 100 invitations, each created and accepted: 200 commits of 100 aggregates in one batch
    events = RecordingEventStore()
    commits = accepted_invites(CommandHandler(registry, events), 100)
    reads = CountingReadStore()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    # WHEN the guest-list projector takes the batch
    failed = runtime.process_batch(commits)
    # THEN the list counts every guest, was written at most twice, and no transaction passed 100 actions
    assert failed == {}
    document = reads.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    assert (document.body["num_guests"], document.body["num_accepted"]) == (100, 100)
    assert reads.writes[(GuestListProjector.name, GUEST_LIST_KEY)] <= 2
    assert max(reads.commit_sizes) <= 100


def test_a_redelivered_batch_changes_nothing(registry: Registry) -> None:
    events = RecordingEventStore()
    commits = accepted_invites(CommandHandler(registry, events), 5)
    reads = CountingReadStore()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    runtime.process_batch(commits)
    before = dict(reads.writes)

    runtime.process_batch(commits + commits[:3])

    assert reads.writes == before
    document = reads.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    assert document.body["num_accepted"] == 5


def test_a_batch_that_starts_past_the_tracked_position_is_repaired_from_the_store(registry: Registry) -> None:
    # GIVEN a batch that holds only the acceptances (their creations were never delivered)
    events = RecordingEventStore()
    commits = accepted_invites(CommandHandler(registry, events), 3)
    reads = MemoryReadStore()
    runtime = ProjectorRuntime(InvitationProjector(), registry, reads, events)
    # WHEN it is processed, THEN each view was rebuilt from the creation on
    runtime.process_batch(commits[1::2])
    for commit in commits[1::2]:
        view = reads.get(InvitationProjector.name, str(commit[0].aggregate_id))
        assert view is not None
        assert (view.body["status"], view.body["version"]) == ("accepted", 2)


def test_a_conflict_in_a_batch_is_retried_from_fresh_reads_and_counted_once(registry: Registry) -> None:
    events = RecordingEventStore()
    commits = accepted_invites(CommandHandler(registry, events), 4)
    reads = ConflictingReadStore(conflicts=2)
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)

    assert runtime.process_batch(commits) == {}

    document = reads.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    # Two conflicts, then the list once (the positions in its ledger), then each aggregate's tracking item.
    assert (document.body["num_guests"], reads.commit_calls) == (4, 3 + 4)


def test_aggregates_whose_group_keeps_conflicting_are_reported_and_nothing_of_theirs_is_written(
    registry: Registry,
) -> None:
    events = RecordingEventStore()
    commits = accepted_invites(CommandHandler(registry, events), 2)
    reads = ConflictingReadStore(conflicts=100)
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)

    failed = runtime.process_batch(commits)

    assert set(failed) == {commit[0].stream for commit in commits}
    assert reads.get(GuestListProjector.name, GUEST_LIST_KEY) is None


def test_a_commit_that_changes_nothing_writes_nothing_and_the_next_one_reads_it_back(registry: Registry) -> None:
    # GIVEN a creation, which the guest list does not count, delivered on its own
    events = RecordingEventStore()
    created, accepted = accepted_invites(CommandHandler(registry, events), 1)
    reads = CountingReadStore()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    runtime.process_batch([created])
    assert reads.writes == {}
    loads = events.load_calls
    # WHEN the acceptance follows in another batch, THEN it is counted once, after one read of the history
    runtime.process_batch([accepted])
    runtime.process_batch([created, accepted])
    document = reads.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    assert document.body["num_accepted"] == 1
    assert events.load_calls - loads == 1


def test_a_per_aggregate_projector_keeps_the_position_beside_its_document(registry: Registry) -> None:
    # GIVEN three invitations created and accepted, and the views' projector, whose documents follow one aggregate
    events = RecordingEventStore()
    commits = accepted_invites(CommandHandler(registry, events), 3)
    reads = CountingReadStore()
    runtime = ProjectorRuntime(InvitationProjector(), registry, reads, events)
    # WHEN the batch is delivered twice
    runtime.process_batch(commits)
    runtime.process_batch(commits)
    # THEN each view was written once, alone, at version 2, and there is no tracking document at all
    assert reads.commit_sizes == [1, 1, 1]
    assert all(collection == InvitationProjector.name for collection, _ in reads.writes)
    for commit in commits[1::2]:
        view = reads.get(InvitationProjector.name, str(commit[0].aggregate_id))
        assert view is not None
        assert (view.position, view.body["version"], view.body["status"]) == (2, 2, "accepted")


class StaleReadStore(MemoryReadStore):
    """Its cheap reads see nothing ever written, the stalest an eventually consistent read could be."""

    def peek_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Document]:
        return {}


def test_a_stale_first_read_never_counts_a_commit_twice(registry: Registry) -> None:
    # GIVEN a batch already projected, and a store whose first read of a batch is as stale as can be
    events = RecordingEventStore()
    commits = accepted_invites(CommandHandler(registry, events), 3)
    reads = StaleReadStore()
    runtimes = [ProjectorRuntime(p, registry, reads, events) for p in (InvitationProjector(), GuestListProjector(2))]
    for runtime in runtimes:
        runtime.process_batch(commits)
    # WHEN the batch is redelivered, THEN the conditional writes catch the stale read and nothing moves
    for runtime in runtimes:
        assert runtime.process_batch(commits) == {}
    document = reads.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    assert (document.body["num_accepted"], document.revision) == (3, 1)
    view = reads.get(InvitationProjector.name, str(commits[0][0].aggregate_id))
    assert view is not None
    assert (view.revision, view.position) == (1, 2)
