"""Snapshots and the warm cache are caches: they save reads, and never change what a command decides."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

import pytest

from domain.invitation import AcceptInvite, CreateInvite, DeclineInvite, InviteDeclined
from horizon.aggregate_cache import AggregateCache
from horizon.command_handler import CommandHandler
from horizon.errors import DomainError
from horizon.events import Event, Metadata
from horizon.eventstore import Head, Snapshot
from horizon.memory import MemoryEventStore
from horizon.registry import Registry
from tests.principals import as_host


class HistoryCountingStore(MemoryEventStore):
    """Counts full-history reads (`load`), which a command with a good snapshot never needs, and head reads."""

    def __init__(self) -> None:
        super().__init__()
        self.history_reads = 0
        self.head_reads = 0

    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        self.head_reads += 1
        return super().load_head(aggregate_type, aggregate_id)

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        self.history_reads += 1
        return super().load(aggregate_type, aggregate_id, after_version)


def declined_invite(handler: CommandHandler) -> UUID:
    invite = uuid4()
    handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
    handler.handle(DeclineInvite(id=invite), as_host())
    return invite


def test_a_command_decides_from_the_snapshot_without_reading_the_history(registry: Registry) -> None:
    store = HistoryCountingStore()
    invite = declined_invite(CommandHandler(registry, store))

    with pytest.raises(DomainError, match="already declined"):
        CommandHandler(registry, store).handle(AcceptInvite(id=invite), as_host())

    assert store.load_head("Invitation", invite).snapshot is not None
    assert store.history_reads == 0


def state(**changes: object) -> str:
    """An Invitation snapshot that, if believed, says the guest may still accept."""
    return json.dumps({"name": "Athena", "age": None, "status": "invited", "decline_reason": None, **changes})


FORGED = {
    "an older state schema": Snapshot(2, 0, state()),
    "unreadable JSON": Snapshot(2, 1, "{not json"),
    "a status outside the lifecycle": Snapshot(2, 1, state(status="maybe")),
    "missing fields": Snapshot(2, 1, json.dumps({"status": "invited"})),
    "an unknown field": Snapshot(2, 1, state(seats=3)),
    "a field of the wrong type": Snapshot(2, 1, state(name=["Athena"])),
}


@pytest.mark.parametrize("case", list(FORGED))
def test_a_corrupt_or_old_snapshot_never_changes_a_decision(registry: Registry, case: str) -> None:
    # GIVEN a declined invite whose tip carries a snapshot that, if believed, would let the guest accept
    store = HistoryCountingStore()
    handler = CommandHandler(registry, store)
    invite = uuid4()
    handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
    meta = Metadata(correlation_id="c", causation_id="c", command="DeclineInvite")
    declined = Event(
        aggregate_type="Invitation", aggregate_id=invite, version=2, type=InviteDeclined.event_type, metadata=meta
    )
    store.append([declined], 1, FORGED[case])
    # WHEN the guest accepts, THEN the history decides: the accept is still refused, after one replay
    with pytest.raises(DomainError, match="already declined"):
        handler.handle(AcceptInvite(id=invite), as_host())
    assert store.history_reads == 1
    assert [event.type for event in store.load("Invitation", invite)] == ["InviteCreated", "InviteDeclined"]


def test_a_warm_command_reads_nothing(registry: Registry) -> None:
    store = HistoryCountingStore()
    handler = CommandHandler(registry, store, cache=AggregateCache())
    invite = uuid4()
    handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
    reads = store.head_reads

    result = handler.handle(AcceptInvite(id=invite), as_host())

    assert [event.type for event in result.events] == ["InviteAccepted"]
    assert (store.head_reads - reads, store.history_reads) == (0, 0)


def test_a_rejection_decided_from_the_cache_is_checked_against_the_store(registry: Registry) -> None:
    # GIVEN a cache that wrongly believes the invite was declined
    store = MemoryEventStore()
    cache = AggregateCache()
    handler = CommandHandler(registry, store, cache=cache)
    invite = uuid4()
    handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
    wrong = Snapshot(1, 1, state(status="declined"))
    cache.remember("Invitation", invite, Head(1, wrong))
    # WHEN the guest accepts, THEN the store's head decides, and the accept is stored
    result = handler.handle(AcceptInvite(id=invite), as_host())
    assert [event.type for event in result.events] == ["InviteAccepted"]


def test_a_stale_cache_loses_the_race_and_decides_again_from_the_winners_head(registry: Registry) -> None:
    # GIVEN a warm handler that cached the invite at "invited", and another writer that declined it since
    store = MemoryEventStore()
    warm = CommandHandler(registry, store, cache=AggregateCache(), sleep=lambda seconds: None)
    invite = uuid4()
    warm.handle(CreateInvite(id=invite, name="Athena"), as_host())
    CommandHandler(registry, store).handle(DeclineInvite(id=invite), as_host())
    # WHEN the warm handler accepts, THEN its write loses and the decline's state rejects it
    with pytest.raises(DomainError, match="already declined"):
        warm.handle(AcceptInvite(id=invite), as_host())
    assert len(store.load("Invitation", invite)) == 2


def test_the_cache_is_bounded_by_count_bytes_and_lifetime() -> None:
    now = [0.0]
    cache = AggregateCache(max_entries=2, max_bytes=2_000, ttl_seconds=60, clock=lambda: now[0])
    ids = [uuid4() for _ in range(3)]

    def head(size: int) -> Head:
        return Head(1, Snapshot(1, 1, "x" * size))

    for aggregate in ids:
        cache.remember("T", aggregate, head(10))
    assert cache.head("T", ids[0]) is None, "the least recently used entry went first"
    assert len(cache) == 2

    cache.remember("T", ids[0], head(1_500))
    assert cache.bytes <= 2_000
    assert cache.head("T", ids[0]) is not None
    assert cache.head("T", ids[1]) is None
    assert cache.head("T", ids[2]) is None

    cache.remember("T", ids[1], head(5_000))
    assert cache.head("T", ids[1]) is None, "an entry larger than the whole budget is not kept"

    now[0] = 61.0
    assert cache.head("T", ids[0]) is None, "an entry older than its lifetime is gone"
    assert len(cache) == 0


def test_a_head_without_a_snapshot_is_not_cached() -> None:
    cache = AggregateCache()
    aggregate = uuid4()
    cache.remember("T", aggregate, Head(1, Snapshot(1, 1, "{}")))
    cache.remember("T", aggregate, Head(2))
    assert cache.head("T", aggregate) is None
