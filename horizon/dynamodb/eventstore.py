"""The DynamoDB event store: one item per event plus a tip item per aggregate, written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from horizon.dynamodb.layout import TIP_SORT_KEY, stream_key
from horizon.errors import ConcurrencyError, InvalidEvents
from horizon.events import Event
from horizon.eventstore import EventStore, check_append

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_EVENTS_PER_COMMIT = 99
"""TransactWriteItems takes 100 actions: the tip plus 99 events."""

MAX_TIP_BYTES = 350_000
"""The tip repeats the commit's events and must stay under the 400 KB item cap with room for its keys."""


class DynamoDBEventStore(EventStore):
    """Event store on one DynamoDB table; the boto3 client is injected, never created here."""

    def __init__(self, client: DynamoDBClient, table_name: str, *, page_size: int | None = None) -> None:
        self._client = client
        self._table = table_name
        self._page_size = page_size

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        """Return the aggregate's events with a version above `after_version`, in version order."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk > :after",
            "ExpressionAttributeValues": {
                ":pk": {"S": stream_key(aggregate_type, aggregate_id)},
                ":after": {"N": str(max(after_version, 0))},
            },
            "ProjectionExpression": "body",
            "ConsistentRead": True,
        }
        if self._page_size:
            request["Limit"] = self._page_size
        events: list[Event] = []
        while True:
            page = self._client.query(**request)
            events.extend(Event.model_validate_json(item["body"]["S"]) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return events
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def append(self, events: Sequence[Event], expected_version: int) -> None:
        """Atomically store events continuing from `expected_version`, or raise ConcurrencyError if it moved."""
        check_append(events, expected_version)
        first = events[0]
        where = f"append to {first.aggregate_type} {first.aggregate_id}"
        if len(events) > MAX_EVENTS_PER_COMMIT:
            raise InvalidEvents(f"{where}: {len(events)} events exceed {MAX_EVENTS_PER_COMMIT} per commit")
        pk = stream_key(first.aggregate_type, first.aggregate_id)
        bodies = [event.model_dump_json() for event in events]
        if sum(len(body) for body in bodies) > MAX_TIP_BYTES:
            raise InvalidEvents(f"{where}: the commit is larger than {MAX_TIP_BYTES} bytes")
        tip_condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected_version == 0
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        )
        tip = {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "pk": {"S": pk},
                    "sk": {"N": TIP_SORT_KEY},
                    "aggregate_type": {"S": first.aggregate_type},
                    "version": {"N": str(events[-1].version)},
                    "events": {"L": [{"S": body} for body in bodies]},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                **tip_condition,
            }
        }
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": pk},
                        "sk": {"N": str(event.version)},
                        "type": {"S": event.type},
                        "body": {"S": body},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for event, body in zip(events, bodies, strict=True)
        ]
        try:
            self._client.transact_write_items(TransactItems=[tip, *items])  # type: ignore[list-item]
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            codes = {r.get("Code") for r in reasons}
            if "ConditionalCheckFailed" in codes:
                old: dict[str, Any] = dict(reasons[0].get("Item", {})) if reasons else {}
                actual = int(old["version"]["N"]) if "version" in old else 0
                raise ConcurrencyError(first.aggregate_type, first.aggregate_id, expected_version, actual) from error
            if "TransactionConflict" in codes:
                # Another writer's transaction held the tip: the same race, decided before conditions ran.
                raise ConcurrencyError(first.aggregate_type, first.aggregate_id, expected_version, None) from error
            raise


def decode_tip(image: dict[str, Any]) -> list[Event]:
    """The events of the commit that wrote this tip image (DynamoDB JSON); [] for anything else."""
    if image.get("sk", {}).get("N") != TIP_SORT_KEY or "events" not in image:
        return []
    return [Event.model_validate_json(value["S"]) for value in image["events"]["L"]]
