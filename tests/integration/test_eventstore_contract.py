"""The event-store contract, run against the in-memory store and the DynamoDB store (moto)."""

from __future__ import annotations

import pytest

from horizon.eventstore import EventStore
from horizon.memory import MemoryEventStore

from .eventstore_contract import EventStoreContract


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> EventStore:
    if request.param == "memory":
        return MemoryEventStore()
    event_store: EventStore = request.getfixturevalue("dynamodb_event_store")
    return event_store


class TestEventStoreContract(EventStoreContract):
    """Every case of the contract, once per store."""

    # Threads against moto prove nothing: its transact_write_items has no lock, so concurrent transactions
    # interleave their condition checks where DynamoDB serializes them. On DynamoDB the race is covered by the
    # sequential two-writers case (the condition) and by test_dynamodb_eventstore.py (a TransactionConflict).
    @pytest.mark.parametrize("store", ["memory"], indirect=True)
    def test_of_concurrent_writers_from_the_same_version_exactly_one_wins(self, store: EventStore) -> None:
        super().test_of_concurrent_writers_from_the_same_version_exactly_one_wins(store)
