"""DynamoDB Streams → commits: decode tip records and run a consumer with partial batch responses.

Only tip records carry commits (see docs/event-store.md); event items and anything else are acknowledged
and skipped. Powertools' BatchProcessor keeps going after a failed record, which would let a later commit of
the same aggregate overtake the failed one; we fail those later records too, so Lambda redelivers them in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from horizon.dynamodb.layout import TIP_SORT_KEY, decode_tip
from horizon.events import Event

logger = logging.getLogger(__name__)

Consumer = Callable[[Sequence[Event]], None]


class StreamBlocked(Exception):
    """A record waits because an earlier record of the same aggregate failed in this batch."""


def is_commit_record(record: dict[str, Any]) -> bool:
    """The event source mapping's filter: only inserts and updates of tip items carry commits."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    return record.get("eventName") in ("INSERT", "MODIFY") and keys.get("sk", {}).get("N") == TIP_SORT_KEY


def decode_record(record: dict[str, Any]) -> list[Event]:
    """The commit a stream record carries, or [] when the record is not a commit (event item, removal)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return []
    image = record.get("dynamodb", {}).get("NewImage") or {}
    return decode_tip(image)


def process_stream_batch(event: dict[str, Any], context: Any, consumers: Sequence[Consumer]) -> dict[str, Any]:
    """Feed every commit in a Lambda stream batch to each consumer; return the partial batch response."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    failed: set[tuple[str, UUID]] = set()

    def handle(record: DynamoDBRecord) -> None:
        commit = decode_record(record.raw_event)
        if not commit:
            return
        stream = commit[0].stream
        if stream in failed:
            raise StreamBlocked(f"{stream[0]} {stream[1]} v{commit[0].version}: an earlier record failed")
        try:
            for consume in consumers:
                consume(commit)
        except Exception:
            failed.add(stream)
            logger.exception(
                "commit %s %s v%d-%d failed; it and the aggregate's later records will be redelivered",
                stream[0],
                stream[1],
                commit[0].version,
                commit[-1].version,
            )
            raise

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    return dict(response)
