"""Records a stream consumer gave up on, kept the way Lambda's on-failure destination keeps them.

On AWS an SQS on-failure destination receives, for a DynamoDB Streams mapping, a pointer to the records
(`DDBStreamBatchInfo`: stream, shard and sequence numbers), not the records. Locally the pointer goes to a moto
SQS queue; `python -m horizon.local.redrive` lists those messages and re-drives them through the consumer.
"""

from __future__ import annotations

import json
import time
import uuid
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

DEAD_LETTER_QUEUE = "horizon-local-failures"
"""The local stand-in for the stack's failure queue."""


def failure_message(consumer: str, stream_arn: str, shard_id: str, record: dict[str, Any], attempts: int) -> str:
    """The JSON an on-failure destination receives when a DynamoDB Streams mapping gives up on one record."""
    sequence = str(record["dynamodb"]["SequenceNumber"])
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    arrival = datetime.fromtimestamp(created, UTC).isoformat() if isinstance(created, int | float) else None
    return json.dumps(
        {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{consumer}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": None},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "approximateArrivalOfFirstRecord": arrival,
                "approximateArrivalOfLastRecord": arrival,
                "batchSize": 1,
                "streamArn": stream_arn,
            },
        }
    )


def consumer_of(message: dict[str, Any]) -> str:
    """The consumer (function name) a failure message is about."""
    return str(message["requestContext"]["functionArn"]).rsplit(":", 1)[1]


class DeadLetters(ABC):
    """Where a stream subscription sends the records it gave up on."""

    @abstractmethod
    def send(self, consumer: str, stream_arn: str, shard_id: str, record: dict[str, Any], attempts: int) -> None:
        """Keep a pointer to `record`, which `consumer` failed `attempts` times."""


class MemoryDeadLetters(DeadLetters):
    """Dead letters for one process's life (tests)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []

    def send(self, consumer: str, stream_arn: str, shard_id: str, record: dict[str, Any], attempts: int) -> None:
        """Keep the message and the record."""
        self.messages.append(json.loads(failure_message(consumer, stream_arn, shard_id, record, attempts)))
        self.records.append(record)


class QueueDeadLetters(DeadLetters):
    """Dead letters as messages of an SQS queue (moto's, locally), created on first use."""

    def __init__(self, client: SQSClient, queue: str = DEAD_LETTER_QUEUE, *, url: str | None = None) -> None:
        self._client = client
        self._queue = queue
        self._url = url
        """Given: an existing queue (a consumer's dead-letter queue of the fan-out), used as it is."""

    @property
    def url(self) -> str:
        """The queue's URL (creating the queue is idempotent)."""
        if self._url is None:
            self._url = self._client.create_queue(
                QueueName=self._queue, Attributes={"MessageRetentionPeriod": "1209600"}
            )["QueueUrl"]
        return self._url

    def send(self, consumer: str, stream_arn: str, shard_id: str, record: dict[str, Any], attempts: int) -> None:
        """Send the failure message."""
        body = failure_message(consumer, stream_arn, shard_id, record, attempts)
        self._client.send_message(QueueUrl=self.url, MessageBody=body)

    def messages(self) -> list[MessageTypeDef]:
        """Every message now in the queue, as last received (with its system attributes), hiding none from others.

        A message received again comes with a new receipt handle, and SQS deletes a message only by the latest
        one it handed out (an older one is accepted and leaves the message in place): each is kept as last seen.
        """
        seen: dict[str, MessageTypeDef] = {}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            page = self._client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
            )
            received = page.get("Messages", [])
            fresh = [m for m in received if m["MessageId"] not in seen]
            seen.update((message["MessageId"], message) for message in received)
            if not fresh:
                break
        return list(seen.values())

    def list(self) -> list[tuple[str, dict[str, Any]]]:
        """Every message now in the queue as (receipt handle, message), without hiding any from others."""
        return [(message["ReceiptHandle"], json.loads(message["Body"])) for message in self.messages()]

    def delete(self, receipt_handle: str) -> None:
        """Remove one message (after a successful re-drive)."""
        self._client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)
