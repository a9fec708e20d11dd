"""Table definitions for local runs and tests; infra/ declares the same keys for AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


EXPIRES = "expires"
"""The read table's time-to-live attribute (epoch seconds): DynamoDB deletes an item some time after it passes."""


def create_tables(client: DynamoDBClient, events_table: str, read_table: str) -> str:
    """Create the event table (with a NEW_IMAGE stream) and the read table; return the stream ARN."""
    events = _create(client, events_table, "N", {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    _create(client, read_table, "S", None)
    client.update_time_to_live(
        TableName=read_table, TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRES}
    )
    return str(events["TableDescription"]["LatestStreamArn"])


def _create(client: DynamoDBClient, name: str, sort_type: str, stream: dict[str, Any] | None) -> Any:
    extra: dict[str, Any] = {"StreamSpecification": stream} if stream else {}
    return client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": sort_type},  # type: ignore[typeddict-item]
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
