"""Property: whatever the stream does (duplicates, reordering, partial failures, crashes between any two store
calls) while catch-up runs, the final read models and saga effects equal one clean in-order run.

Generated schedules run on the memory stores and on the DynamoDB stores (moto): 280 + 20 per run (moto costs
about 1.3 s a schedule).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import build_registry
from domain.guest_list import GUEST_LIST_KEY, GuestListProjector, InvitationProjector
from domain.invitation import AcceptInvite, CreateInvite, DeclineInvite
from domain.response_saga import ResponseSaga
from horizon.catchup import catch_up
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime, TrackedConsumer
from horizon.dynamodb import DynamoDBEventStore, DynamoDBReadStore, create_tables
from horizon.events import Event
from horizon.eventstore import AggregateRef, EventStore, Head, Snapshot
from horizon.memory import MemoryEventStore, MemoryReadStore
from horizon.readstore import Document, DocumentKey, Page, ReadStore, Write
from tests.principals import as_host

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LIMIT = 10
"""Above the number of invitations, so the saga's decisions do not depend on the order it sees acceptances."""


class Crash(Exception):
    """A simulated crash of the consumer's process between two store calls."""


class Faults:
    """Counts store calls and crashes on the chosen ones; a crash on an odd call lands after the call took effect."""

    def __init__(self, at: frozenset[int]) -> None:
        self.at = at
        self.calls = 0
        self.on = True

    def around(self) -> tuple[bool, bool]:
        """(crash before the call, crash after it)."""
        self.calls += 1
        hit = self.on and self.calls in self.at
        return hit and self.calls % 2 == 0, hit and self.calls % 2 == 1


class FaultyReadStore(ReadStore):
    def __init__(self, inner: ReadStore, faults: Faults) -> None:
        self.inner, self.faults = inner, faults

    def _call(self, call: Any, *args: Any) -> Any:
        before, after = self.faults.around()
        if before:
            raise Crash("before a read-store call")
        result = call(*args)
        if after:
            raise Crash("after a read-store call")
        return result

    def get_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Document]:
        return self._call(self.inner.get_many, keys)  # type: ignore[no-any-return]

    def peek_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Document]:
        return self._call(self.inner.peek_many, keys)  # type: ignore[no-any-return]

    def list(self, collection: str, limit: int, cursor: str | None = None) -> Page:
        return self.inner.list(collection, limit, cursor)

    def commit(self, writes: Sequence[Write]) -> None:
        self._call(self.inner.commit, writes)


class FaultyEventStore(EventStore):
    """Faults on the consumers' reads of history; appends (the saga's commands) go through the handler's store."""

    def __init__(self, inner: EventStore, faults: Faults) -> None:
        self.inner, self.faults = inner, faults

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        if self.faults.around()[0]:
            raise Crash("before a history read")
        return self.inner.load(aggregate_type, aggregate_id, after_version)

    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        return self.inner.load_head(aggregate_type, aggregate_id)

    def append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None = None) -> None:
        self.inner.append(events, expected_version, snapshot)

    def aggregates(self, segment: int = 0, total: int = 1) -> Iterator[AggregateRef]:
        return self.inner.aggregates(segment, total)


def write_story(store: EventStore, answers: Sequence[bool]) -> tuple[list[tuple[Event, ...]], list[UUID]]:
    """One invitation per answer (True accepts, False declines); the commits in order and the ids."""
    handler = CommandHandler(build_registry(), store)
    commits, ids = [], []
    for index, accepts in enumerate(answers):
        invite_id = uuid4()
        ids.append(invite_id)
        commits.append(handler.handle(CreateInvite(id=invite_id, name=f"Guest {index}"), as_host()).events)
        answer = AcceptInvite(id=invite_id) if accepts else DeclineInvite(id=invite_id)
        commits.append(handler.handle(answer, as_host()).events)
    return commits, ids


def consumers(events: EventStore, reads: ReadStore, handler_store: EventStore) -> list[TrackedConsumer]:
    registry = build_registry()
    return [
        ProjectorRuntime(InvitationProjector(), registry, reads, events),
        ProjectorRuntime(GuestListProjector(LIMIT), registry, reads, events),
        SagaRuntime(ResponseSaga(LIMIT), registry, reads, events, CommandHandler(registry, handler_store)),
    ]


def outcome(events: EventStore, reads: ReadStore, ids: Sequence[UUID]) -> str:
    """The read models and the saga's effects (the events it caused), every id replaced by its index."""
    keys = [(InvitationProjector.name, str(i)) for i in ids]
    keys += [(GuestListProjector.name, GUEST_LIST_KEY), (ResponseSaga.name, "seats")]
    found = reads.get_many(keys)
    views = {"/".join(key): found[key].body if key in found else None for key in keys}
    effects = [[e.type for e in events.load("Invitation", i)] for i in ids]
    text = json.dumps({"views": views, "effects": effects}, sort_keys=True)
    for index, invite_id in enumerate(ids):
        text = text.replace(str(invite_id), f"invite-{index}")
    return json.dumps(_unordered_ids(json.loads(text)), sort_keys=True)  # sorted again, by index this time


def _unordered_ids(value: Any) -> Any:
    """Lists of invitation ids (the saga's decisions) in index order: across aggregates there is no order."""
    if isinstance(value, dict):
        return {key: _unordered_ids(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_unordered_ids(item) for item in value]
        is_ids = items and all(isinstance(item, str) and item.startswith("invite-") for item in items)
        return sorted(items) if is_ids else items
    return value


def drain(runtimes: Sequence[TrackedConsumer]) -> None:
    """What eventually happens: retries and catch-up deliver everything, including what the saga caused."""
    for _ in range(2):
        for runtime in runtimes:
            assert catch_up(runtime).failed == {}


def clean_run(answers: Sequence[bool]) -> str:
    events = MemoryEventStore()
    commits, ids = write_story(events, answers)
    reads = MemoryReadStore()
    runtimes = consumers(events, reads, events)
    for commit in commits:
        for runtime in runtimes:
            runtime.process(commit)
    drain(runtimes)
    return outcome(events, reads, ids)


Step = tuple[str, list[int], int]
"""("deliver", commit indices in delivery order, consumer) or ("catch-up", [], consumer)."""

steps: st.SearchStrategy[Step] = st.one_of(
    st.tuples(st.just("deliver"), st.lists(st.integers(0, 7), min_size=1, max_size=6), st.integers(0, 2)),
    st.tuples(st.just("catch-up"), st.just([]), st.integers(0, 2)),
)
schedules = st.tuples(
    st.lists(st.booleans(), min_size=1, max_size=4),
    st.lists(steps, max_size=10),
    st.frozensets(st.integers(1, 80), max_size=4),
)


def run_schedule(events: EventStore, reads: ReadStore, schedule: tuple[list[bool], list[Step], frozenset[int]]) -> None:
    answers, plan, crashes = schedule
    commits, ids = write_story(events, answers)
    faults = Faults(crashes)
    runtimes = consumers(FaultyEventStore(events, faults), FaultyReadStore(reads, faults), events)
    for kind, indices, which in plan:
        runtime = runtimes[which]
        try:
            if kind == "deliver":
                runtime.process_batch([commits[i % len(commits)] for i in indices])
            else:
                catch_up(runtime, which % 2, 2)
        except Crash:
            pass  # the invocation died; the stream delivers the batch again, catch-up runs again
    faults.on = False
    drain(runtimes)
    assert outcome(events, reads, ids) == clean_run(answers)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules)
def test_any_schedule_on_the_memory_stores_ends_as_one_clean_in_order_run(
    schedule: tuple[list[bool], list[Step], frozenset[int]],
) -> None:
    run_schedule(MemoryEventStore(), MemoryReadStore(), schedule)


@pytest.fixture
def tables(dynamodb: DynamoDBClient) -> DynamoDBClient:
    return dynamodb


@pytest.mark.timeout(900)  # 300 schedules on moto: about 150 s alone, twice that beside the rest of make test
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(schedule=schedules)
def test_any_schedule_on_the_dynamodb_stores_ends_as_one_clean_in_order_run(
    tables: DynamoDBClient, schedule: tuple[list[bool], list[Step], frozenset[int]]
) -> None:
    name = uuid4().hex[:12]  # fresh tables per schedule: catch-up lists every aggregate of its table
    create_tables(tables, f"e-{name}", f"r-{name}")
    run_schedule(DynamoDBEventStore(tables, f"e-{name}"), DynamoDBReadStore(tables, f"r-{name}"), schedule)
