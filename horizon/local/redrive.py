"""List the local dead letters, and re-drive them: fetch each record from the stream and hand it to its consumer.

A dead letter is a pointer (stream, shard, sequence number), as on AWS; locally the stream keeps every record,
so a pointer can always be followed. A record its consumer now accepts is deleted from the queue; one it still
rejects stays for the next try.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from horizon.local.deadletters import QueueDeadLetters, consumer_of
from horizon.local.lambda_context import LocalContext
from horizon.local.poller import StreamHandler, as_lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient


@dataclass(frozen=True)
class DeadLetter:
    """One message of the dead-letter queue, summarised."""

    receipt_handle: str
    consumer: str
    stream_arn: str
    shard_id: str
    sequence_number: str
    attempts: int

    @classmethod
    def from_message(cls, receipt_handle: str, message: dict[str, Any]) -> DeadLetter:
        """Read the fields an on-failure destination message carries."""
        info = message["DDBStreamBatchInfo"]
        return cls(
            receipt_handle=receipt_handle,
            consumer=consumer_of(message),
            stream_arn=info["streamArn"],
            shard_id=info["shardId"],
            sequence_number=info["startSequenceNumber"],
            attempts=int(message["requestContext"].get("approximateInvokeCount", 0)),
        )


def dead_letters(queue: QueueDeadLetters) -> list[DeadLetter]:
    """Every dead letter in the queue, oldest record first."""
    letters = [DeadLetter.from_message(handle, message) for handle, message in queue.list()]
    return sorted(letters, key=lambda letter: int(letter.sequence_number))


def redrive(
    queue: QueueDeadLetters, streams: DynamoDBStreamsClient, consumers: Mapping[str, StreamHandler]
) -> tuple[int, int]:
    """Hand each dead record to its consumer again; return (re-driven, still failing)."""
    done = failing = 0
    for letter in dead_letters(queue):
        handler = consumers.get(letter.consumer)
        if handler is None:
            failing += 1
            continue
        iterator = streams.get_shard_iterator(
            StreamArn=letter.stream_arn,
            ShardId=letter.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=letter.sequence_number,
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator, Limit=1)["Records"]
        record = as_lambda_record(dict(records[0]), letter.stream_arn)
        try:
            response = handler({"Records": [record]}, LocalContext(letter.consumer)) or {}
        except Exception:
            failing += 1
            continue
        if response.get("batchItemFailures"):
            failing += 1
            continue
        queue.delete(letter.receipt_handle)
        done += 1
    return done, failing
