"""The fan-out on moto: stream → dispatcher → each consumer's SQS FIFO queue → the consumer runtime."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3
import pytest

from functions import local
from horizon.consumers import ProjectorRuntime
from horizon.dynamodb import DynamoDBEventStore, DynamoDBReadStore
from horizon.dynamodb.fanout import Message, Publisher, QueuePublisher, message_of, publish_stream_batch
from horizon.dynamodb.routes import FANOUT_QUEUES, Route, routes_of
from horizon.dynamodb.streams import is_commit_record, process_stream_batch
from horizon.events import Event, EventData, Metadata
from horizon.local.deadletters import QueueDeadLetters
from horizon.local.fanout import LocalFanout, dead_letter_queues
from horizon.local.poller import StreamPoller, Subscription, as_lambda_record
from horizon.local.queues import QueuePoller
from horizon.local.redrive import queue_letters, redrive_queue
from horizon.retry import QUEUE_RECEIVES, RetryPolicy
from tests.integration.conftest import EVENTS_TABLE, READ_TABLE
from tests.unit.test_toy_domain import GrandTotalProjector, Total, TotalsProjector, counter_registry

META = Metadata(correlation_id="c", causation_id="c", command="Test")
NO_PAUSE = RetryPolicy(attempts=QUEUE_RECEIVES, base_seconds=0, cap_seconds=0)


class PoisonableTotals(TotalsProjector):
    """Totals that cannot project the aggregates in `broken`: a poison commit, until the code is fixed."""

    def __init__(self) -> None:
        self.broken: set[uuid.UUID] = set()

    def project(self, current: Total | None, event: Event, data: EventData) -> Total | None:
        if event.aggregate_id in self.broken:
            raise RuntimeError(f"cannot project {event.aggregate_id}")
        return super().project(current, event, data)


class Pipeline:
    """The local fan-out wired as `make run` wires it, around one queued consumer with two projectors."""

    def __init__(self, dynamodb: Any) -> None:
        self.store = DynamoDBEventStore(dynamodb, EVENTS_TABLE)
        self.store_client = dynamodb
        self.reads = DynamoDBReadStore(dynamodb, READ_TABLE)
        self.sqs = boto3.client("sqs")
        fanout = LocalFanout(self.sqs)
        self.routes = fanout.create({"Totals": None})
        self.queues = QueuePublisher(self.sqs, self.routes)
        self.publisher: Publisher = self.queues
        self.stream_arn = str(dynamodb.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"])
        self.totals = PoisonableTotals()
        self.runtimes = [
            ProjectorRuntime(projector, counter_registry(), self.reads, self.store)
            for projector in (self.totals, GrandTotalProjector())
        ]
        url = fanout.queue_url("Totals")
        self.queue = QueuePoller(self.sqs, "totals", url, fanout.arn(url), self.consume, retry=NO_PAUSE)

    def consume(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The queued consumer's handler, as functions/saga.py builds it."""
        return process_stream_batch(event, context, [r.process_batch for r in self.runtimes], load=self._load)

    def _load(self, aggregate_type: str, aggregate_id: uuid.UUID, first: int, last: int) -> list[Event]:
        return [e for e in self.store.load(aggregate_type, aggregate_id, first - 1) if e.version <= last]

    def add_queued(self, routes: list[Route]) -> None:
        """The dispatcher sends to these queues too."""
        self.routes = [*self.routes, *routes]
        self.queues = self.publisher = QueuePublisher(self.sqs, self.routes)

    def dispatch(self) -> None:
        """One pass of the fan-out function over the whole stream (a fresh mapping: from the trim horizon),
        sending each commit to the queues that react to it."""
        poller = StreamPoller(
            boto3.client("dynamodbstreams"),
            self.stream_arn,
            [
                Subscription(
                    "fanout",
                    lambda e, c: publish_stream_batch(e, self.publisher, self.queues.publishes),
                    accepts=is_commit_record,
                )
            ],
        )
        poller.poll_once()

    def drain(self, polls: int = 30) -> None:
        for _ in range(polls):
            self.queue.poll_once()

    def records(self) -> list[dict[str, Any]]:
        """The stream's tip records, as Lambda hands them to the fan-out function."""
        client = boto3.client("dynamodbstreams")
        shard = client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = client.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        page = client.get_records(ShardIterator=iterator)["Records"]
        return [r for r in (as_lambda_record(dict(r), self.stream_arn) for r in page) if is_commit_record(r)]

    def total(self, key: str = "all", collection: str = "GrandTotal") -> dict[str, Any] | None:
        document = self.reads.get(collection, key)
        return None if document is None else document.body


def open_counter(store: DynamoDBEventStore, label: str = "c") -> uuid.UUID:
    counter = uuid.uuid4()
    store.append([event(counter, 1, "CounterOpened", {"label": label})], 0)
    return counter


def event(counter: uuid.UUID, version: int, kind: str = "Incremented", data: dict[str, Any] | None = None) -> Event:
    return Event(
        aggregate_type="Counter",
        aggregate_id=counter,
        version=version,
        type=kind,
        data=data if data is not None else {"by": version},
        metadata=META,
    )


@pytest.fixture
def pipeline(dynamodb: Any) -> Pipeline:
    return Pipeline(dynamodb)


def test_commits_reach_a_queued_consumer_through_its_queue_and_a_redelivered_stream_counts_once(
    pipeline: Pipeline,
) -> None:
    counter = open_counter(pipeline.store)
    pipeline.store.append([event(counter, 2)], 1)
    pipeline.store.append([event(counter, 3), event(counter, 4)], 2)
    pipeline.dispatch()
    pipeline.dispatch()  # the stream delivered everything twice: the queue's deduplication drops the copies
    pipeline.drain()
    assert pipeline.total() == {"label": "all", "total": 2 + 3 + 4}
    assert pipeline.total(str(counter), "Totals") == {"label": "c", "total": 9}


def test_a_duplicate_after_the_deduplication_window_and_a_reordered_delivery_are_counted_once(
    pipeline: Pipeline,
) -> None:
    counter = open_counter(pipeline.store)
    pipeline.store.append([event(counter, 2)], 1)
    pipeline.store.append([event(counter, 3)], 2)
    messages = [message_of(record) for record in pipeline.records()]
    opened, second, third = (message for message in messages if message is not None)
    # The newest commit first: the consumer reads versions 1 and 2 back from the event store.
    assert pipeline.publisher([third]) == set()
    pipeline.drain()
    assert pipeline.total() == {"label": "all", "total": 2 + 3}
    # Then the older ones arrive, and one again under a new deduplication id, as after SQS's five minutes.
    late = type(second)(second.record_id, second.group, second.deduplication_id + "#again", second.body)
    assert pipeline.publisher([opened, second, late]) == set()
    pipeline.drain()
    assert pipeline.total() == {"label": "all", "total": 2 + 3}


def test_a_failing_aggregate_is_parked_in_its_dead_letter_queue_while_others_flow_and_redrive_heals_it(
    pipeline: Pipeline,
) -> None:
    healthy, poisoned = open_counter(pipeline.store), open_counter(pipeline.store)
    pipeline.store.append([event(healthy, 2)], 1)
    pipeline.store.append([event(poisoned, 2)], 1)
    pipeline.store.append([event(poisoned, 3)], 2)
    pipeline.totals.broken = {poisoned}
    pipeline.dispatch()
    pipeline.drain(polls=3 * QUEUE_RECEIVES)
    assert pipeline.total(str(healthy), "Totals") == {"label": "c", "total": 2}
    assert pipeline.total(str(poisoned), "Totals") is None

    dead = dead_letter_queues(pipeline.sqs)
    assert list(dead) == ["totals"]
    queue = QueueDeadLetters(pipeline.sqs, url=dead["totals"])
    letters = queue_letters(queue, "totals")
    assert sorted(letter.commit for letter in letters) == [
        f"Counter#{poisoned}#v1-1",
        f"Counter#{poisoned}#v2-2",
        f"Counter#{poisoned}#v3-3",
    ]
    assert all(letter.attempts >= QUEUE_RECEIVES for letter in letters)  # listing receives them once more

    assert redrive_queue(queue, "totals", pipeline.consume) == (0, 3)
    pipeline.totals.broken = set()  # the consumer is fixed
    assert redrive_queue(queue, "totals", pipeline.consume) == (3, 0)
    assert pipeline.total(str(poisoned), "Totals") == {"label": "c", "total": 5}
    assert queue_letters(queue, "totals") == []


def test_a_commit_too_large_for_a_message_travels_as_a_pointer_and_is_read_from_the_store(
    pipeline: Pipeline,
) -> None:
    label = '"' * 120_000  # each quote is escaped twice on the way into a message: far over 256 KiB
    counter = open_counter(pipeline.store, label)
    (record,) = pipeline.records()
    message = message_of(record)
    assert message is not None
    assert "events" not in json.loads(message.body)["dynamodb"]["NewImage"]
    pipeline.dispatch()
    pipeline.drain()
    assert pipeline.total(str(counter), "Totals") == {"label": label, "total": 0}


class IncrementsOnly(GrandTotalProjector):
    """The grand total, declaring the one event type it reacts to."""

    reacts_to = frozenset({"Incremented"})


def test_a_consumer_declaring_its_event_types_gets_only_the_commits_holding_them_and_counts_each_once(
    pipeline: Pipeline,
) -> None:
    fanout = LocalFanout(pipeline.sqs)
    pipeline.add_queued(fanout.create({"Grand": IncrementsOnly.reacts_to}))
    url = fanout.queue_url("Grand")
    runtime = ProjectorRuntime(IncrementsOnly(), counter_registry(), pipeline.reads, pipeline.store)
    received: list[str] = []

    def consume(event: dict[str, Any], context: Any) -> dict[str, Any]:
        received.extend(json.loads(r["body"])["dynamodb"]["NewImage"]["version"]["N"] for r in event["Records"])
        return process_stream_batch(event, context, [runtime.process_batch], load=pipeline._load)

    grand = QueuePoller(pipeline.sqs, "grand", url, fanout.arn(url), consume, retry=NO_PAUSE)
    reads: list[str] = []
    pipeline.store_client.meta.events.register(
        "before-parameter-build.dynamodb",
        lambda model, params, **_: (
            reads.append(model.name)
            if params.get("TableName") == EVENTS_TABLE and model.name in ("GetItem", "Query")
            else None
        ),
    )
    counter = open_counter(pipeline.store)
    pipeline.store.append([event(counter, 2)], 1)
    pipeline.store.append([event(counter, 3, "CounterOpened", {"label": "again"})], 2)
    pipeline.store.append([event(counter, 4)], 3)
    pipeline.dispatch()
    pipeline.dispatch()  # redelivered by the stream: queued once
    for _ in range(5):
        grand.poll_once()
    assert received == ["2", "4"]  # the openings never reached its queue
    assert reads == []  # and each message vouched for them: nothing was read back
    assert pipeline.total(collection=runtime.name) == {"label": "all", "total": 2 + 4}
    pipeline.drain()
    assert pipeline.total(str(counter), "Totals") == {"label": "again", "total": 6}  # the unfiltered queue: all


def test_the_local_dispatcher_sends_only_what_its_consumers_react_to_and_consumers_still_count_once(
    pipeline: Pipeline,
) -> None:
    fanout = LocalFanout(pipeline.sqs)
    consumers = {"Grand": IncrementsOnly.reacts_to}
    fanout.create(consumers)
    environment = fanout.environment(consumers)
    url = fanout.queue_url("Grand")
    assert routes_of(environment[FANOUT_QUEUES]) == (Route("Grand", url, frozenset({"Incremented"})),)
    pipeline.routes = []
    pipeline.add_queued(list(routes_of(environment[FANOUT_QUEUES])))
    sent: list[Message] = []
    queues = pipeline.publisher

    def publisher(messages: Any) -> set[str]:
        sent.extend(messages)
        return queues(messages)

    pipeline.publisher = publisher
    runtime = ProjectorRuntime(IncrementsOnly(), counter_registry(), pipeline.reads, pipeline.store)

    def consume(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_stream_batch(event, context, [runtime.process_batch], load=pipeline._load)

    grand = QueuePoller(pipeline.sqs, "grand", url, fanout.arn(url), consume, retry=NO_PAUSE)
    counter = open_counter(pipeline.store)
    pipeline.store.append([event(counter, 2)], 1)
    pipeline.store.append([event(counter, 3, "CounterOpened", {"label": "again"})], 2)
    pipeline.store.append([event(counter, 4)], 3)
    pipeline.dispatch()
    assert [json.loads(m.body)["dynamodb"]["NewImage"]["version"]["N"] for m in sent] == ["2", "4"]
    for _ in range(5):
        grand.poll_once()
    assert pipeline.total(collection=runtime.name) == {"label": "all", "total": 2 + 4}


def test_the_local_stack_gives_its_dispatcher_each_queued_functions_queue_and_what_it_reacts_to(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FANOUT_QUEUES, "[]")
    monkeypatch.delenv(local.TEST_DOMAIN, raising=False)
    fanout = LocalFanout(boto3.client("sqs"))
    queued = local.queued_types(guest_limit=2)
    fanout.create(queued)
    local.dispatch_locally(fanout, guest_limit=2)
    (route,) = routes_of(os.environ[FANOUT_QUEUES])
    assert route == Route("Saga", fanout.queue_url("Saga"), frozenset({"InviteAccepted"}))
    assert queued["Saga"] == route.reacts_to
