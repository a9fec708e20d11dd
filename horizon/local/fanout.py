"""The fan-out on the local data plane: moto's SNS FIFO topic, and an SQS FIFO queue per consumer with its DLQ.

The same shape as the stack's (infra/streams.py): the fan-out function publishes to the topic each commit some
consumer reacts to, the topic delivers it raw to every consumer's queue, and a queue moves a message to its
dead-letter queue after `QUEUE_RECEIVES` deliveries. Each subscription carries the filter policy the stack derives
from what its consumer reacts to (moto's SNS applies it as SNS does), and the dispatcher's environment names their
union, as the stack's does (`environment`). Creating it all is idempotent, so a restored data plane keeps what it
had.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from horizon.dynamodb.fanout import dispatcher_environment, filter_policy
from horizon.retry import QUEUE_RECEIVES

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    from horizon.projection import EventTypes

TOPIC = "horizon-local-commits.fifo"
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
    """The topic and the queues, created on first use."""

    def __init__(self, sns: SNSClient, sqs: SQSClient) -> None:
        self._sns = sns
        self._sqs = sqs

    def create(self, consumers: Mapping[str, EventTypes], *, receives: int = QUEUE_RECEIVES) -> str:
        """The topic, each consumer's queue and DLQ, and the raw subscriptions; returns the topic's ARN.

        `consumers` maps each consumer to the event types it reacts to (None: all), its subscription's filter.
        A queue moves a message to its DLQ after `receives` deliveries (fewer than on AWS for tests and demos).
        """
        topic = self._sns.create_topic(
            Name=TOPIC, Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"}
        )["TopicArn"]
        for consumer, types in consumers.items():
            dead = self._sqs.create_queue(QueueName=dead_letter_queue_name(consumer), Attributes=FIFO)["QueueUrl"]
            redrive = {"deadLetterTargetArn": self._arn(dead), "maxReceiveCount": receives}
            queue = self._queue(queue_name(consumer), {**FIFO, "RedrivePolicy": json.dumps(redrive)})
            self._subscribe(topic, self._arn(queue), filter_policy(types))
        return topic

    def _subscribe(self, topic: str, queue_arn: str, policy: dict[str, list[str]] | None) -> None:
        """Subscribe the queue raw, with this filter policy, whatever an earlier start subscribed it with."""
        attributes = {"RawMessageDelivery": "true"}
        if policy is not None:
            attributes["FilterPolicy"] = json.dumps(policy)
        arn = self._sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)[
            "SubscriptionArn"
        ]
        # Subscribing again returns the existing subscription with its old attributes: set the policy anew.
        old = self._sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"].get("FilterPolicy")
        if policy is not None and old != attributes["FilterPolicy"]:
            self._sns.set_subscription_attributes(
                SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=attributes["FilterPolicy"]
            )
        elif policy is None and old:
            self._sns.unsubscribe(SubscriptionArn=arn)
            self._sns.subscribe(
                TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
            )

    def environment(self, consumers: Mapping[str, EventTypes]) -> dict[str, str]:
        """The dispatcher's environment for these consumers, as the stack sets it: the topic, and (unless one of
        them reacts to every type) the types it publishes, the union of what they react to."""
        return {"FANOUT_TOPIC_ARN": self.topic_arn(), **dispatcher_environment(consumers.values())}

    def topic_arn(self) -> str:
        """The topic's ARN (creating a topic that exists returns it)."""
        return self.create({})

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
