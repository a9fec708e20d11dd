"""Idempotency keys: one command per key for the retention, then free again; claims never overwrite a live one."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

import pytest

from domain.invitation import AcceptInvite, CreateInvite
from horizon.errors import CommandIdReused, ReadModelConflict, Throttled
from horizon.idempotency import COLLECTION, RETENTION_SECONDS, claim
from horizon.memory import MemoryReadStore
from horizon.readstore import Document, DocumentKey, Write

from .fakes import FakeClock

KEY = "key:host:order-1"
START = 1_800_000_000.0


class RacedReads(MemoryReadStore):
    """Every write of the key loses to another claim, which leaves an expired record behind each time."""

    def commit(self, writes: Sequence[Write]) -> None:
        """Lose the race: another request rewrote the record, expired again, just before."""
        current = self.get(COLLECTION, KEY)
        super().commit([Write(COLLECTION, KEY, {"command": "other"}, current.revision if current else 0, expires=1)])
        raise ReadModelConflict(f"commit {COLLECTION}/{KEY}: another claim won")


class ExpiringBetweenReads(MemoryReadStore):
    """DynamoDB's time to live deleting the record just after a claim's write conflicted with it, before its read."""

    deleted = False

    def get_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Document]:
        """Delete the record once, as the time to live would, then read."""
        current = super().get_many([(COLLECTION, KEY)]).get((COLLECTION, KEY))
        if current is not None and current.expires is not None and not self.deleted:
            self.deleted = True
            self.commit([Write(COLLECTION, KEY, None, current.revision)])
        return super().get_many(keys)


def test_a_key_refuses_another_command_until_its_record_expires_then_binds_the_new_one() -> None:
    reads, clock = MemoryReadStore(), FakeClock(START)
    first, second = CreateInvite(id=uuid4(), name="Ada"), CreateInvite(id=uuid4(), name="Bea")
    claim(reads, KEY, first, clock)

    clock.now = START + RETENTION_SECONDS - 1
    with pytest.raises(CommandIdReused, match="already used for CreateInvite"):
        claim(reads, KEY, second, clock)

    clock.now = START + RETENTION_SECONDS
    claim(reads, KEY, second, clock)
    with pytest.raises(CommandIdReused):
        claim(reads, KEY, first, clock)
    record = reads.get(COLLECTION, KEY)
    assert record is not None
    assert (record.revision, record.expires) == (2, int(START) + 2 * RETENTION_SECONDS)


def test_a_retry_of_the_same_command_within_the_retention_is_let_through_and_keeps_the_first_expiry() -> None:
    reads, clock = MemoryReadStore(), FakeClock(START)
    accept = AcceptInvite(id=uuid4())
    claim(reads, KEY, accept, clock)
    clock.now += 3600

    claim(reads, KEY, AcceptInvite(id=accept.id), clock)

    record = reads.get(COLLECTION, KEY)
    assert record is not None
    assert (record.revision, record.expires) == (1, int(START) + RETENTION_SECONDS)


def test_a_record_deleted_between_a_claims_conflict_and_its_read_is_claimed_anew() -> None:
    reads, clock = ExpiringBetweenReads(), FakeClock(START)
    ada = CreateInvite(id=uuid4(), name="Ada")
    reads.commit([Write(COLLECTION, KEY, {"command": "CreateInvite", "fingerprint": "old"}, 0, expires=1)])

    claim(reads, KEY, ada, clock)

    record = reads.get(COLLECTION, KEY)
    assert record is not None
    assert (record.revision, record.expires) == (1, int(START) + RETENTION_SECONDS)
    claim(reads, KEY, ada, clock)  # bound to Ada's command now: her retry passes


def test_claims_that_keep_losing_the_race_give_up_with_a_retryable_answer() -> None:
    with pytest.raises(Throttled, match="kept winning"):
        claim(RacedReads(), KEY, CreateInvite(id=uuid4(), name="Ada"), FakeClock(START))
