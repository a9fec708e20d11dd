"""The fan-out on the local data plane: an SQS FIFO queue per queued consumer, with its dead-letter queue.

The same shape as the stack's (infra/streams.py): the fan-out function sends each commit to the queue of every
consumer that reacts to it, and a queue moves a message to its dead-letter queue after `QUEUE_RECEIVES`
deliveries. The dispatcher's environment names each queue and what its consumer reacts to, as the stack's does
(`environment`). Creating it all is idempotent, so a restored data plane keeps what it had.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from horizon.dynamodb.routes import Route, dispatcher_environment
from horizon.retry import QUEUE_RECEIVES

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    from horizon.projection import EventTypes

PREFIX = "horizon-local-"
DEAD_LETTERS = "-dead-letters.fifo"

FIFO: dict[QueueAttributeNameType, str] = {
    "FifoQueue": "true",
    # As on the stack: deduplication and throughput per message group, which is one aggregate.
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
    "MessageRetentionPeriod": "1209600",
}


def queue_name(consumer: str) -> str:
    """The local queue of one consumer (a function name: Saga → horizon-local-saga.fifo)."""
    return f"{PREFIX}{consumer.lower()}.fifo"


def dead_letter_queue_name(consumer: str) -> str:
    """The dead-letter queue of one consumer's queue."""
    return f"{PREFIX}{consumer.lower()}{DEAD_LETTERS}"


def consumer_of_dead_letter_queue(url: str) -> str | None:
    """The consumer whose dead-letter queue this is (by the local naming), else None."""
    name = url.rsplit("/", 1)[-1]
    if not (name.startswith(PREFIX) and name.endswith(DEAD_LETTERS)):
        return None
    return name[len(PREFIX) : -len(DEAD_LETTERS)]


class LocalFanout:
    """The queues, created on first use."""

    def __init__(self, sqs: SQSClient) -> None:
        self._sqs = sqs

    def create(self, consumers: Mapping[str, EventTypes], *, receives: int = QUEUE_RECEIVES) -> list[Route]:
        """Each consumer's queue and DLQ; returns the dispatcher's routes to them.

        `consumers` maps each consumer to the event types it reacts to (None: all). A queue moves a message to
        its DLQ after `receives` deliveries (fewer than on AWS for tests and demos).
        """
        routes = []
        for consumer, types in consumers.items():
            dead = self._sqs.create_queue(QueueName=dead_letter_queue_name(consumer), Attributes=FIFO)["QueueUrl"]
            redrive = {"deadLetterTargetArn": self._arn(dead), "maxReceiveCount": receives}
            queue = self._queue(queue_name(consumer), {**FIFO, "RedrivePolicy": json.dumps(redrive)})
            routes.append(Route(consumer, queue, types))
        return routes

    def environment(self, consumers: Mapping[str, EventTypes]) -> dict[str, str]:
        """The dispatcher's environment for these consumers, as the stack sets it: each one's queue, and what it
        reacts to."""
        return dispatcher_environment(Route(name, self.queue_url(name), types) for name, types in consumers.items())

    def queue_url(self, consumer: str) -> str:
        """The URL of one consumer's queue."""
        return self._sqs.get_queue_url(QueueName=queue_name(consumer))["QueueUrl"]

    def arn(self, url: str) -> str:
        """A queue's ARN."""
        return self._arn(url)

    def dead_letter_queues(self) -> dict[str, str]:
        """Every consumer's dead-letter queue URL, by consumer (lower case)."""
        return dead_letter_queues(self._sqs)

    def _queue(self, name: str, attributes: dict[QueueAttributeNameType, str]) -> str:
        """Create a queue, or set these attributes on the one of that name (a restart with other settings)."""
        try:
            return self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        except self._sqs.exceptions.QueueNameExists:
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self._sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
            return url

    def _arn(self, url: str) -> str:
        return self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def dead_letter_queues(sqs: SQSClient) -> dict[str, str]:
    """Every local consumer's dead-letter queue URL, by consumer (lower case)."""
    urls = sqs.list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])
    found = {consumer: url for url in urls if (consumer := consumer_of_dead_letter_queue(url)) is not None}
    return dict(sorted(found.items()))
