"""The local event source mapping, per record: its own attempts, lasting checkpoints, an SQS dead-letter queue."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import boto3
import pytest

from horizon.dynamodb import DynamoDBEventStore
from horizon.dynamodb.streams import is_commit_record
from horizon.events import Event, Metadata
from horizon.local.checkpoints import TableCheckpoints
from horizon.local.deadletters import QueueDeadLetters
from horizon.local.poller import StreamPoller, Subscription
from horizon.local.redrive import dead_letters, redrive
from horizon.retry import RetryPolicy
from tests.integration.conftest import EVENTS_TABLE

META = Metadata(correlation_id="c", causation_id="c", command="Test")


def version_of(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["NewImage"]["version"]["N"])


class Flaky:
    """A stream handler that fails each version as often as `failures` says (forever for -1), counting calls."""

    def __init__(self, failures: dict[int, int]) -> None:
        self.failures = dict(failures)
        self.seen: Counter[int] = Counter()
        self.first_failed: Counter[int] = Counter()
        """How often each version was the first failure of a batch: the failures its attempts are counted from."""

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        failed: list[dict[str, str]] = []
        for record in event["Records"]:
            version = version_of(record)
            self.seen[version] += 1
            if self.failures.get(version, 0) != 0:
                self.failures[version] -= 1
                if not failed:
                    self.first_failed[version] += 1
                failed.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failed}


@pytest.fixture
def stream(dynamodb: Any) -> str:
    store = DynamoDBEventStore(dynamodb, EVENTS_TABLE)
    aggregate = uuid.uuid4()
    for version in (1, 2, 3):
        event = Event(aggregate_type="Thing", aggregate_id=aggregate, version=version, type="Ticked", metadata=META)
        store.append([event], version - 1)
    return str(dynamodb.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"])


def poller(arn: str, handler: Flaky, dynamodb: Any, queue: QueueDeadLetters, max_attempts: int = 3) -> StreamPoller:
    checkpoints = TableCheckpoints(dynamodb)
    checkpoints.create_table()
    return StreamPoller(
        boto3.client("dynamodbstreams"),
        arn,
        [Subscription("projector", handler, accepts=is_commit_record)],
        checkpoints=checkpoints,
        dead_letters=queue,
        retry=RetryPolicy(attempts=max_attempts, base_seconds=0, cap_seconds=0),
    )


def drain(subject: StreamPoller, polls: int = 10) -> None:
    for _ in range(polls):
        subject.poll_once()


def test_a_record_gets_its_own_attempts_not_those_of_the_record_before_it(stream: str, dynamodb: Any) -> None:
    handler = Flaky({1: 2, 2: -1})  # version 1 fails twice then passes; version 2 always fails
    queue = QueueDeadLetters(boto3.client("sqs"))
    drain(poller(stream, handler, dynamodb, queue, max_attempts=3))
    assert handler.first_failed[1] == 2
    assert handler.first_failed[2] == 3  # three failures of its own, though it failed in version 1's retries too
    assert handler.seen[2] == 5
    assert handler.seen[3] == 6  # redelivered behind each failure (5), then once more alone
    assert [letter.attempts for letter in dead_letters(queue)] == [3]


def test_a_given_up_record_lands_in_the_queue_as_a_pointer_and_is_re_driven_once_fixed(
    stream: str, dynamodb: Any
) -> None:
    handler = Flaky({2: -1})
    queue = QueueDeadLetters(boto3.client("sqs"))
    drain(poller(stream, handler, dynamodb, queue))
    (letter,) = dead_letters(queue)
    assert (letter.consumer, letter.stream_arn, letter.attempts) == ("projector", stream, 3)

    still_broken = redrive(queue, boto3.client("dynamodbstreams"), {"projector": handler})
    assert still_broken == (0, 1)
    assert len(dead_letters(queue)) == 1

    handler.failures = {}  # the consumer is fixed
    assert redrive(queue, boto3.client("dynamodbstreams"), {"projector": handler}) == (1, 0)
    assert dead_letters(queue) == []
    assert handler.first_failed[2] == 3 + 1


def test_a_new_poller_resumes_after_the_last_checkpoint(stream: str, dynamodb: Any) -> None:
    queue = QueueDeadLetters(boto3.client("sqs"))
    first = Flaky({})
    drain(poller(stream, first, dynamodb, queue), polls=2)
    second = Flaky({})
    drain(poller(stream, second, dynamodb, queue), polls=2)
    assert sorted(first.seen) == [1, 2, 3]
    assert second.seen == Counter()
