"""moto under sustained writes: with `patch_moto()` memory stays flat and cancelled transactions still roll back."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from domain.invitation import AcceptInvite, CreateInvite
from horizon.command_handler import CommandHandler
from horizon.dynamodb import DynamoDBEventStore
from tests.principals import as_host

from .conftest import EVENTS_TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from horizon.registry import Registry

COMMANDS = 2_000
GROWTH_LIMIT_MB = 60
"""2,000 commands store ~3,000 events and their stream records: a few MB. Unpatched moto passes 1 GB by 1,000."""


def resident_mb() -> float:
    """This process's resident memory now (not its peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def stream_records(dynamodb: DynamoDBClient) -> int:
    """How many records the events table's stream holds."""
    import boto3

    streams = boto3.client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    total = 0
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        total += len(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])
    return total


@pytest.fixture
def registry() -> Registry:
    from domain import build_registry

    return build_registry()


def test_two_thousand_commands_leave_memory_flat(dynamodb: DynamoDBClient, registry: Registry) -> None:
    handler = CommandHandler(registry, DynamoDBEventStore(dynamodb, EVENTS_TABLE))
    invites: list[uuid.UUID] = []
    baseline = 0.0
    for n in range(COMMANDS):
        if n % 3 == 2:
            handler.handle(AcceptInvite(id=invites[n // 3]), as_host())
        else:
            invites.append(uuid.uuid4())
            handler.handle(CreateInvite(id=invites[-1], name=f"Guest {n}"), as_host())
        if n == 499:
            baseline = resident_mb()
        if n > 499 and n % 100 == 99:
            # Checked as it goes, so that a regression fails in seconds instead of exhausting the machine.
            growth = resident_mb() - baseline
            assert growth < GROWTH_LIMIT_MB, f"memory grew {growth:.0f} MB between command 500 and {n + 1}"


def test_a_cancelled_transaction_leaves_the_table_and_its_stream_as_they_were(dynamodb: DynamoDBClient) -> None:
    def put(sk: int, condition: str | None = None) -> Any:  # a TransactWriteItemTypeDef
        item = {"TableName": EVENTS_TABLE, "Item": {"pk": {"S": "Test#1"}, "sk": {"N": str(sk)}, "n": {"N": "1"}}}
        return {"Put": {**item, "ConditionExpression": condition} if condition else item}

    def update(sk: int) -> Any:
        key = {"pk": {"S": "Test#1"}, "sk": {"N": str(sk)}}
        return {
            "Update": {
                "TableName": EVENTS_TABLE,
                "Key": key,
                "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }

    dynamodb.transact_write_items(TransactItems=[put(0), put(1)])
    before = dynamodb.scan(TableName=EVENTS_TABLE)["Items"]
    records_before = stream_records(dynamodb)
    # WHEN a transaction writes a new item, changes an old one in place, then fails its last condition
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[put(2), update(0), put(1, "attribute_not_exists(pk)")])
    # THEN nothing of it remains: not the new item, not the change, not a stream record
    assert sorted(map(str, dynamodb.scan(TableName=EVENTS_TABLE)["Items"])) == sorted(map(str, before))
    assert stream_records(dynamodb) == records_before
    dynamodb.transact_write_items(TransactItems=[put(2), update(0)])
    assert len(dynamodb.scan(TableName=EVENTS_TABLE)["Items"]) == 3
    assert stream_records(dynamodb) == records_before + 2
