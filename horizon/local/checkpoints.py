"""Where each local stream subscription stands, per shard: Lambda's event source mapping keeps this for you."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CHECKPOINTS_TABLE = "horizon-local-checkpoints"
"""A table of the local data plane, so checkpoints are saved in the same snapshot as the data they describe."""


class Checkpoints(ABC):
    """The last sequence number each consumer is done with, per shard."""

    @abstractmethod
    def get(self, consumer: str, shard_id: str) -> str | None:
        """The sequence number `consumer` is done with on `shard_id`, or None before its first."""

    @abstractmethod
    def put(self, consumer: str, shard_id: str, sequence_number: str) -> None:
        """Record that `consumer` is done with `shard_id` up to and including `sequence_number`."""


class MemoryCheckpoints(Checkpoints):
    """Checkpoints for one process's life."""

    def __init__(self) -> None:
        self._positions: dict[tuple[str, str], str] = {}

    def get(self, consumer: str, shard_id: str) -> str | None:
        """The position, if any."""
        return self._positions.get((consumer, shard_id))

    def put(self, consumer: str, shard_id: str, sequence_number: str) -> None:
        """Remember the position."""
        self._positions[(consumer, shard_id)] = sequence_number


class TableCheckpoints(Checkpoints):
    """Checkpoints as items of a small DynamoDB table keyed by consumer and shard."""

    def __init__(self, client: DynamoDBClient, table: str = CHECKPOINTS_TABLE) -> None:
        self._client = client
        self._table = table

    def create_table(self) -> None:
        """Create the table unless it exists."""
        if self._table in self._client.list_tables()["TableNames"]:
            return
        self._client.create_table(
            TableName=self._table,
            KeySchema=[
                {"AttributeName": "consumer", "KeyType": "HASH"},
                {"AttributeName": "shard", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "consumer", "AttributeType": "S"},
                {"AttributeName": "shard", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )

    def get(self, consumer: str, shard_id: str) -> str | None:
        """The stored position, read strongly consistent."""
        item = self._client.get_item(
            TableName=self._table,
            Key={"consumer": {"S": consumer}, "shard": {"S": shard_id}},
            ConsistentRead=True,
        ).get("Item")
        return item["sequence"]["S"] if item else None

    def put(self, consumer: str, shard_id: str, sequence_number: str) -> None:
        """Overwrite the stored position."""
        self._client.put_item(
            TableName=self._table,
            Item={"consumer": {"S": consumer}, "shard": {"S": shard_id}, "sequence": {"S": sequence_number}},
        )
