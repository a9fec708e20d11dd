"""List the local dead letters, and re-drive them: hand each record or message to its consumer again.

A stream reader's dead letter is a pointer (stream, shard, sequence number), as on AWS; locally the stream keeps
every record, so a pointer can always be followed. A queued consumer's dead letter is the fan-out's message
itself, in that consumer's dead-letter queue. A record its consumer now accepts is deleted from the queue; one it
still rejects stays for the next try.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from horizon.local.deadletters import QueueDeadLetters, consumer_of
from horizon.local.lambda_context import LocalContext
from horizon.local.poller import StreamHandler, as_lambda_record
from horizon.local.queues import QueueHandler
from horizon.local.queues import as_lambda_record as as_queue_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef


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
        if not _handled(handler, record, letter.consumer):
            failing += 1
            continue
        queue.delete(letter.receipt_handle)
        done += 1
    return done, failing


def _handled(handler: StreamHandler | QueueHandler, record: dict[str, Any], consumer: str) -> bool:
    """Whether the consumer took one record: it neither raised nor reported the record failed."""
    try:
        response = handler({"Records": [record]}, LocalContext(consumer)) or {}
    except Exception:
        return False
    return not response.get("batchItemFailures")


@dataclass(frozen=True)
class HeldMessage:
    """One message of a consumer's dead-letter queue of the fan-out: the commit itself, not a pointer."""

    message: MessageTypeDef
    consumer: str
    commit: str
    """Aggregate and versions, e.g. Invitation#6b1f…#v2-2."""
    attempts: int


def queue_letters(queue: QueueDeadLetters, consumer: str) -> list[HeldMessage]:
    """Every message in one consumer's dead-letter queue, as the queue holds them."""
    held = []
    for message in queue.messages():
        image = json.loads(message["Body"]).get("dynamodb", {}).get("NewImage", {})
        commit = (
            f"{image.get('pk', {}).get('S')}#v{image.get('first', {}).get('N')}-{image.get('version', {}).get('N')}"
        )
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0"))
        held.append(HeldMessage(message, consumer, commit, attempts))
    return held


def redrive_queue(queue: QueueDeadLetters, consumer: str, handler: QueueHandler) -> tuple[int, int]:
    """Hand each held message to its consumer again, as its queue would; return (re-driven, still failing)."""
    done = failing = 0
    for held in queue_letters(queue, consumer):
        record = as_queue_record(held.message, "local-dead-letters")
        if not _handled(handler, record, consumer):
            failing += 1
            continue
        queue.delete(held.message["ReceiptHandle"])
        done += 1
    return done, failing
