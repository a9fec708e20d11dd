"""One BatchGetItem, however many of its keys DynamoDB leaves unprocessed: the read store, the data keys and the
keyed heads all read through it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from horizon.errors import Throttled
from horizon.retry import UNPROCESSED_KEYS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_LIMIT = 100
"""Keys per BatchGetItem request."""


def batch_get(client: DynamoDBClient, request: dict[str, Any], operation: str) -> dict[str, list[dict[str, Any]]]:
    """Every item `request` (RequestItems, at most BATCH_GET_LIMIT keys) finds, by table; Throttled if DynamoDB
    keeps leaving keys unprocessed after every attempt of UNPROCESSED_KEYS."""
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in request}
    pending = request
    for attempt in range(1, UNPROCESSED_KEYS.attempts + 1):
        response = client.batch_get_item(RequestItems=pending)
        for table, items in response.get("Responses", {}).items():
            found.setdefault(table, []).extend(dict(item) for item in items)
        pending = dict(response.get("UnprocessedKeys") or {})
        if not pending:
            return found
        if attempt < UNPROCESSED_KEYS.attempts:
            time.sleep(UNPROCESSED_KEYS.pause(attempt))  # throttled: back off before asking for the rest
    raise Throttled(f"{operation}: keys stayed unprocessed after every attempt")
