"""Positions written ahead in a shared document's ledger: a crash between any two writes, a concurrent writer, a
stale copy, and a reader of positions all keep every commit applied exactly once (horizon/consumers/ledger.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector
from domain.invitation import AcceptInvite, ConfirmInvite, CreateInvite, InviteAccepted, InviteConfirmed
from domain.response_saga import ResponseSaga
from horizon.catchup import catch_up
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime, ledger
from horizon.errors import ReadModelConflict
from horizon.events import Event, EventData
from horizon.memory import MemoryReadStore
from horizon.projection import Projector
from horizon.readstore import DocumentKey, Write
from horizon.registry import Registry
from tests.principals import as_host, as_saga

from .fakes import Crash, RecordingEventStore

Commit = tuple[Event, ...]
LIST = (GuestListProjector.name, GUEST_LIST_KEY)


class Process(MemoryReadStore):
    """Records the keys of every commit; `crash_at` (1-based) kills the process before or after that commit, and
    a dead process fails every later call until `restart`. `between` runs once before commit number `at`."""

    def __init__(self, crash_at: int = 0, *, after: bool = False) -> None:
        super().__init__()
        self.commits: list[list[DocumentKey]] = []
        self.crash_at, self.after, self.dead = crash_at, after, False
        self.between: tuple[int, Callable[[], None]] | None = None

    def restart(self) -> None:
        self.crash_at, self.dead = 0, False

    def get_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Any]:
        if self.dead:
            raise Crash("the process is gone")
        return super().get_many(keys)

    def commit(self, writes: Sequence[Write]) -> None:
        number = len(self.commits) + 1
        if self.dead or (number == self.crash_at and not self.after):
            self.dead = True
            raise Crash("before a write")
        if self.between is not None and self.between[0] == number:
            hook, self.between = self.between[1], None
            hook()
            number = len(self.commits) + 1
        super().commit(writes)
        self.commits.append([(write.collection, write.key) for write in writes])
        if number == self.crash_at:
            self.dead = True
            raise Crash("after a write")


def accepted(handler: CommandHandler) -> tuple[UUID, Commit]:
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Guest"), as_host())
    return invite_id, handler.handle(AcceptInvite(id=invite_id), as_host()).events


def tracking(reads: MemoryReadStore, name: str, invite_id: UUID) -> dict[str, Any] | None:
    document = reads.get(f"_tracking.{name}", f"Invitation#{invite_id}")
    return None if document is None else document.body


def counted(reads: MemoryReadStore) -> int:
    document = reads.get(*LIST)
    return 0 if document is None else int(document.body["num_accepted"])


def test_a_group_that_changes_one_shared_document_writes_it_alone_then_each_position_alone(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = Process()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    (first, a), (second, b) = accepted(handler), accepted(handler)
    assert runtime.process_batch([a, b]) == {}
    # One PutItem of the list carrying both positions, then one plain write per tracking item
    assert reads.commits == [
        [LIST],
        [(f"_tracking.{runtime.name}", f"Invitation#{first}")],
        [(f"_tracking.{runtime.name}", f"Invitation#{second}")],
    ]
    document = reads.get(*LIST)
    assert document is not None
    assert document.ledger is not None
    assert set(document.ledger) == {f"Invitation#{first}", f"Invitation#{second}"}
    assert tracking(reads, runtime.name, first) == {"version": 2, "outbox": []}
    # The next writer checks they arrived (they did) and drops them: the ledger holds only its own positions
    third, c = accepted(handler)
    runtime.process(c)
    document = reads.get(*LIST)
    assert document is not None
    assert document.ledger is not None
    assert (set(document.ledger), counted(reads)) == ({f"Invitation#{third}"}, 3)


@pytest.mark.parametrize("crash_at", [1, 2, 3])
@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_a_crash_before_or_after_any_write_of_a_group_is_healed_by_redelivery_exactly_once(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler, crash_at: int, after: bool
) -> None:
    # GIVEN a batch of two acceptances whose process dies around its 1st (list), 2nd or 3rd (positions) write
    reads = Process(crash_at, after=after)
    (first, a), (second, b) = accepted(handler), accepted(handler)
    failed = ProjectorRuntime(GuestListProjector(2), registry, reads, events).process_batch([a, b])
    assert set(failed) == {a[0].stream, b[0].stream}
    reads.restart()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    # THEN a fresh process sees each position the list's write applied, in its ledger or its tracking item
    written = crash_at > 1 or after
    assert [runtime.position("Invitation", i) for i in (first, second)] == [2, 2] if written else [0, 0]
    # WHEN the batch is delivered again, twice, and each commit alone
    for batch in ([a, b], [a, b], [b], [a]):
        assert runtime.process_batch(batch) == {}
    # THEN each acceptance counts once and every position reached its tracking item
    assert counted(reads) == 2
    assert [tracking(reads, runtime.name, i) for i in (first, second)] == [{"version": 2, "outbox": []}] * 2


def test_a_writer_between_the_list_and_its_positions_settles_them_and_the_late_copy_changes_nothing(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN an instance that wrote the list (and the position in its ledger) but not yet the tracking item
    reads = Process()
    first, second = (ProjectorRuntime(GuestListProjector(2), registry, reads, events) for _ in range(2))
    (athena, a), (hades, b) = accepted(handler), accepted(handler)
    reads.between = (2, lambda: second.process(b))
    # WHEN another instance writes the list then, THEN it settles the first one's position before dropping it
    first.process(a)
    assert counted(reads) == 2
    assert [tracking(reads, first.name, i) for i in (athena, hades)] == [{"version": 2, "outbox": []}] * 2
    document = reads.get(*LIST)
    assert document is not None
    assert document.ledger is not None
    assert set(document.ledger) == {f"Invitation#{hades}"}


def test_a_stale_copy_of_a_position_never_moves_a_tracking_item_back(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN an instance that wrote the acceptance (v2) into the list, its tracking item not yet
    reads = Process()
    first, second = (ProjectorRuntime(GuestListProjector(2), registry, reads, events) for _ in range(2))
    invite_id, accept = accepted(handler)
    confirm = handler.handle(ConfirmInvite(id=invite_id), as_saga()).events
    # WHEN another instance takes the confirmation (v3) meanwhile, and the first then copies its v2
    reads.between = (2, lambda: second.process(confirm))
    first.process(accept)
    # THEN the tracking item stays at v3 and both count once
    assert tracking(reads, first.name, invite_id) == {"version": 3, "outbox": []}
    document = reads.get(*LIST)
    assert document is not None
    assert (document.body["num_accepted"], document.body["num_confirmed"]) == (1, 1)
    assert first.process_batch([accept, confirm]) == {}
    assert tracking(reads, first.name, invite_id) == {"version": 3, "outbox": []}


def test_a_saga_sends_then_writes_its_position_which_is_also_the_clear(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = Process()
    runtime = SagaRuntime(ResponseSaga(2), registry, reads, events, handler)
    invite_id, accept = accepted(handler)
    runtime.process(accept)
    assert [event.type for event in events.load("Invitation", invite_id)][-1] == "InviteConfirmed"
    assert reads.commits == [[(ResponseSaga.name, "seats")], [(f"_tracking.{runtime.name}", f"Invitation#{invite_id}")]]
    assert tracking(reads, runtime.name, invite_id) == {"version": 2, "outbox": []}


@pytest.mark.parametrize("crash_at", [1, 2])
def test_a_saga_that_died_before_sending_is_seen_unsent_and_catch_up_sends_once(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler, crash_at: int
) -> None:
    # GIVEN a saga that wrote its state (the decision in its ledger) and died before or while writing the position
    reads = Process(crash_at, after=crash_at == 1)
    invite_id, accept = accepted(handler)
    SagaRuntime(ResponseSaga(2), registry, reads, events, handler).process_batch([accept])
    reads.restart()
    runtime = SagaRuntime(ResponseSaga(2), registry, reads, events, handler)
    # THEN its position is the acceptance's, its outbox not known sent (it was, when the process died at the copy)
    assert runtime.progress("Invitation", invite_id) == (2, True)
    # WHEN catch-up runs (twice), THEN the command took effect once (ids derive from the event) and was recorded
    for _ in range(2):
        assert catch_up(runtime).failed == {}
    kinds = [event.type for event in events.load("Invitation", invite_id)]
    assert kinds.count("InviteConfirmed") == 1
    assert runtime.progress("Invitation", invite_id) == (2, False)
    assert tracking(reads, runtime.name, invite_id) == {"version": 2, "outbox": []}


class Counts(BaseModel):
    n: int = 0


class ByType(Projector[Counts]):
    """A shared document per event type: one aggregate's events change different documents."""

    name: ClassVar[str] = "ByType"
    model = Counts
    reacts_to: ClassVar[frozenset[str] | None] = frozenset({InviteAccepted.event_type, InviteConfirmed.event_type})

    def document_key(self, event: Event) -> str | None:
        return event.type

    def project(self, current: Counts | None, event: Event, data: EventData) -> Counts | None:
        return Counts(n=(current.n if current else 0) + 1)


def test_a_gap_repair_that_finds_a_further_position_in_another_documents_ledger_starts_over(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN the acceptance applied to its document, its position only in that document's ledger (a crash)
    reads = Process(1, after=True)
    invite_id, accept = accepted(handler)
    confirm = handler.handle(ConfirmInvite(id=invite_id), as_saga()).events
    ProjectorRuntime(ByType(), registry, reads, events).process_batch([accept])
    reads.restart()
    # WHEN the confirmation alone arrives: its gap repair reads the acceptance's document back
    runtime = ProjectorRuntime(ByType(), registry, reads, events)
    assert runtime.process_batch([confirm]) == {}
    # THEN the ledger's position was settled first, and the acceptance was not applied again
    found = reads.get_many([("ByType", "InviteAccepted"), ("ByType", "InviteConfirmed")])
    assert [document.body["n"] for document in found.values()] == [1, 1]
    assert tracking(reads, runtime.name, invite_id) == {"version": 3, "outbox": []}


def test_a_ledger_too_large_for_one_item_goes_in_a_transaction_with_the_document(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "MAX_LEDGER_BYTES", 0)
    reads = Process()
    invite_id, accept = accepted(handler)
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    runtime.process(accept)
    assert reads.commits == [[LIST, (f"_tracking.{runtime.name}", f"Invitation#{invite_id}")]]
    document = reads.get(*LIST)
    assert document is not None
    assert document.ledger is None
    assert runtime.position("Invitation", invite_id) == 2


class ConflictingOnce(Process):
    """Its first commit loses to a concurrent writer (nothing is written)."""

    lost = False

    def commit(self, writes: Sequence[Write]) -> None:
        if not self.lost:
            self.lost = True
            raise ReadModelConflict("commit: simulated concurrent writer")
        super().commit(writes)


def test_a_group_retried_from_fresh_reads_sends_a_later_group_of_the_same_document_through_a_transaction(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    # GIVEN 100 acceptances (two groups sharing the list), the first group's write losing once
    reads = ConflictingOnce()
    runtime = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    commits = [accepted(handler)[1] for _ in range(100)]
    assert runtime.process_batch(commits) == {}
    # THEN the retry read the list again after the second group's tracking items were read: the second group's
    # positions go in a transaction with the list, whose conditions on them the order of reads no longer gives
    writes_of_the_list = [keys for keys in reads.commits if LIST in keys]
    assert [len(keys) > 1 for keys in writes_of_the_list] == [False, True]
    assert counted(reads) == 100
