"""The local event source mapping and the stream batch handler, on moto's DynamoDB Streams."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import boto3
import pytest

from horizon.dynamodb import DynamoDBEventStore
from horizon.dynamodb.streams import is_commit_record, per_commit, process_stream_batch
from horizon.events import Event, Metadata
from horizon.local.deadletters import MemoryDeadLetters
from horizon.local.poller import StreamPoller, Subscription
from horizon.retry import RetryPolicy
from tests.integration.conftest import EVENTS_TABLE

META = Metadata(correlation_id="c", causation_id="c", command="Test")


def _event(aggregate: uuid.UUID, version: int) -> Event:
    return Event(aggregate_type="Thing", aggregate_id=aggregate, version=version, type="Ticked", metadata=META)


class Recorder:
    """A stream Lambda handler that records batches and fails the records it is told to, once each."""

    def __init__(self, fail_once: set[int] | None = None, crash_once: bool = False) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail_once = set(fail_once or ())
        self.crash_once = crash_once

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        self.batches.append(records)
        if self.crash_once:
            self.crash_once = False
            raise RuntimeError("the function crashed")
        failures = []
        for record in records:
            version = int(record["dynamodb"]["NewImage"]["version"]["N"])
            if version in self.fail_once:
                self.fail_once.discard(version)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}


@pytest.fixture
def stream(dynamodb: Any) -> tuple[DynamoDBEventStore, str]:
    arn = dynamodb.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"]
    return DynamoDBEventStore(dynamodb, EVENTS_TABLE), arn


def _poller(arn: str, *subscriptions: Subscription, max_attempts: int = 10) -> StreamPoller:
    client = boto3.client("dynamodbstreams")
    retry = RetryPolicy(attempts=max_attempts, base_seconds=0, cap_seconds=0)
    return StreamPoller(client, arn, list(subscriptions), retry=retry)


def _versions(batch: Sequence[dict[str, Any]]) -> list[int]:
    return [int(r["dynamodb"]["NewImage"]["version"]["N"]) for r in batch]


def _append(store: DynamoDBEventStore, aggregate: uuid.UUID, count: int) -> None:
    for version in range(1, count + 1):
        store.append([_event(aggregate, version)], version - 1)


def test_only_tip_records_reach_a_filtered_subscription_in_lambda_shape(stream: tuple[DynamoDBEventStore, str]) -> None:
    store, arn = stream
    _append(store, uuid.uuid4(), 3)
    recorder = Recorder()
    _poller(arn, Subscription("fn", recorder, accepts=is_commit_record)).poll_once()
    (batch,) = recorder.batches
    assert _versions(batch) == [1, 2, 3]
    assert all(r["eventSourceARN"] == arn and r["eventSource"] == "aws:dynamodb" for r in batch)
    assert all(isinstance(r["dynamodb"]["ApproximateCreationDateTime"], int) for r in batch)


def test_a_partial_failure_redelivers_from_the_failed_record_onwards(stream: tuple[DynamoDBEventStore, str]) -> None:
    store, arn = stream
    _append(store, uuid.uuid4(), 4)
    recorder = Recorder(fail_once={2})
    poller = _poller(arn, Subscription("fn", recorder, accepts=is_commit_record))
    poller.poll_once()
    poller.poll_once()
    assert [_versions(b) for b in recorder.batches] == [[1, 2, 3, 4], [2, 3, 4]]
    assert poller.subscriptions[0].pending == []


def test_a_crashed_invocation_redelivers_the_whole_batch(stream: tuple[DynamoDBEventStore, str]) -> None:
    store, arn = stream
    _append(store, uuid.uuid4(), 2)
    recorder = Recorder(crash_once=True)
    poller = _poller(arn, Subscription("fn", recorder, accepts=is_commit_record))
    poller.poll_once()
    poller.poll_once()
    assert [_versions(b) for b in recorder.batches] == [[1, 2], [1, 2]]


def test_a_record_that_keeps_failing_is_set_aside_and_the_rest_flow(stream: tuple[DynamoDBEventStore, str]) -> None:
    store, arn = stream
    _append(store, uuid.uuid4(), 3)

    def always_fails_version_2(event: dict[str, Any], context: Any) -> dict[str, Any]:
        bad = [r for r in event["Records"] if _versions([r]) == [2]]
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in bad]}

    subscription = Subscription("fn", always_fails_version_2, accepts=is_commit_record)
    poller = _poller(arn, subscription, max_attempts=3)
    for _ in range(4):
        poller.poll_once()
    assert isinstance(poller.dead_letters, MemoryDeadLetters)
    assert _versions(poller.dead_letters.records) == [2]
    assert subscription.pending == []


def test_a_failed_commit_holds_back_later_commits_of_its_aggregate_only(stream: tuple[DynamoDBEventStore, str]) -> None:
    # GIVEN two aggregates with two commits each, and a consumer that fails A's first commit
    store, arn = stream
    a, b = uuid.uuid4(), uuid.uuid4()
    _append(store, a, 2)
    _append(store, b, 2)
    seen: list[tuple[uuid.UUID, int]] = []

    def consumer(commit: Sequence[Event]) -> None:
        if commit[0].aggregate_id == a and commit[0].version == 1:
            raise RuntimeError("projection failed")
        seen.append((commit[0].aggregate_id, commit[0].version))

    recorder = Recorder()
    _poller(arn, Subscription("fn", recorder, accepts=is_commit_record)).poll_once()
    (batch,) = recorder.batches

    # WHEN the batch is processed
    response = process_stream_batch({"Records": batch}, None, [per_commit(consumer)])

    # THEN A's second commit is reported failed too (so it comes back after the first), and B's went through
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    by_sequence = {r["dynamodb"]["SequenceNumber"]: r for r in batch}
    assert sorted(_versions([by_sequence[s] for s in failed])) == [1, 2]
    assert seen == [(b, 1), (b, 2)]
