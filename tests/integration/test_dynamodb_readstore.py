"""What only the DynamoDB read store has to get right: batched reads and 1 MB Query pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest

from horizon.dynamodb import DynamoDBReadStore
from horizon.errors import ReadModelConflict, Throttled
from horizon.readstore import Write
from horizon.retry import UNPROCESSED_KEYS

from .conftest import READ_TABLE
from .dynamodb_fakes import ContendedClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def test_get_many_reads_more_keys_than_one_batch_holds(dynamodb_read_store: DynamoDBReadStore) -> None:
    # GIVEN 150 documents (BatchGetItem takes 100 keys)
    keys = [("views", f"k{i:03d}") for i in range(150)]
    for collection, key in keys:
        dynamodb_read_store.commit([Write(collection, key, {"key": key}, 0)])

    # WHEN all of them and a missing one are read at once
    found = dynamodb_read_store.get_many([*keys, ("views", "missing")])

    # THEN every stored document is there
    assert sorted(found) == keys
    assert all(document.body == {"key": key} for (_, key), document in found.items())


def test_listing_documents_larger_than_one_query_page_does_not_lose_any(
    dynamodb_read_store: DynamoDBReadStore,
) -> None:
    # GIVEN 30 documents of ~40 KB each: 1.2 MB, more than one Query response holds
    keys = [f"k{i:02d}" for i in range(30)]
    for key in keys:
        dynamodb_read_store.commit([Write("big", key, {"blob": "x" * 40_000}, 0)])

    # WHEN listing with a limit above the count and following any cursor
    listed: list[str] = []
    cursor: str | None = None
    while True:
        page = dynamodb_read_store.list("big", 50, cursor)
        listed.extend(document.key for document in page.items)
        cursor = page.cursor
        if cursor is None:
            break

    # THEN every document was listed exactly once
    assert listed == keys


@pytest.mark.parametrize("count", [1, 2], ids=["single write", "transaction"])
def test_a_write_that_loses_to_a_concurrent_transaction_is_a_read_model_conflict(
    dynamodb: DynamoDBClient, count: int
) -> None:
    store = DynamoDBReadStore(cast("DynamoDBClient", ContendedClient(dynamodb)), "read")

    with pytest.raises(ReadModelConflict):
        store.commit([Write("views", f"k{i}", {"n": i}, 0) for i in range(count)])


class UnprocessingClient:
    """A DynamoDB client whose BatchGetItem never gets to any key: DynamoDB throttling the table."""

    def __init__(self, real: DynamoDBClient) -> None:
        self._real = real
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def batch_get_item(self, **request: object) -> dict[str, object]:
        self.calls += 1
        return {"Responses": {}, "UnprocessedKeys": request["RequestItems"]}


def test_keys_left_unprocessed_by_every_attempt_are_throttled_not_a_conflict(
    dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr("horizon.dynamodb.batch_get.time.sleep", pauses.append)
    client = UnprocessingClient(dynamodb)
    store = DynamoDBReadStore(cast("DynamoDBClient", client), READ_TABLE)

    with pytest.raises(Throttled, match="unprocessed"):
        store.get_many([("views", "k")])

    assert client.calls == UNPROCESSED_KEYS.attempts
    assert len(pauses) == UNPROCESSED_KEYS.attempts - 1
    assert all(0 <= pause <= UNPROCESSED_KEYS.cap_seconds for pause in pauses)
