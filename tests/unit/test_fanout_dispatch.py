"""The dispatcher's rules, without AWS: one message per commit, in order per aggregate, failures reported."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from domain.guest_list import InvitationProjector
from domain.response_saga import ResponseSaga
from functions import composition
from functions import fanout as fanout_function
from horizon.dynamodb import layout
from horizon.dynamodb.fanout import (
    MAX_BATCH_ENTRIES,
    Message,
    QueuePublisher,
    decode_message,
    message_of,
    preceding_types,
    publish_stream_batch,
)
from horizon.dynamodb.layout import encode_event
from horizon.dynamodb.routes import FANOUT_QUEUES, Route, dispatcher_environment, routes_of
from horizon.dynamodb.streams import decode_record
from horizon.events import Event, Metadata
from horizon.local.lambda_context import LocalContext
from horizon.projection import concerns, reacting_to

META = Metadata(correlation_id="c", causation_id="c", command="Test")


def tip_record(
    aggregate: uuid.UUID, first: int, last: int, sequence: int, earlier: int = 0, kinds: Sequence[str] = ("Ticked",)
) -> dict[str, Any]:
    """A stream record of a tip written by the commit first..last, still holding `earlier` older events; the
    commit's events take `kinds` in turn. Its envelopes are packed, the binary base64-encoded as in Lambda's JSON."""
    events = [
        Event(
            aggregate_type="Thing",
            aggregate_id=aggregate,
            version=v,
            type="Ticked" if v < first else kinds[(v - first) % len(kinds)],
            data={"n": v},
            metadata=META,
        )
        for v in range(first - earlier, last + 1)
    ]
    image = {
        "pk": {"S": f"Thing#{aggregate}"},
        "sk": {"N": "0"},
        "version": {"N": str(last)},
        "first": {"N": str(first)},
        "events": {"B": base64.b64encode(layout.packed([encode_event(e) for e in events])["B"]).decode()},
        "snapshot": {"S": "{}"},
    }
    keys = {"pk": image["pk"], "sk": image["sk"]}
    dynamodb = {"Keys": keys, "NewImage": image, "SequenceNumber": str(sequence), "ApproximateCreationDateTime": 1}
    return {"eventName": "MODIFY", "dynamodb": dynamodb, "eventSourceARN": "arn:stream"}


class Topic:
    """A publisher that refuses the commits it is told to and remembers what it accepted, in order."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.refuse = refuse or set()
        self.published: list[Message] = []
        self.calls: list[int] = []

    def __call__(self, messages: Sequence[Message]) -> set[str]:
        self.calls.append(len(messages))
        refused = {m.record_id for m in messages if m.record_id in self.refuse}
        self.published += [m for m in messages if m.record_id not in refused]
        return refused


def test_a_message_carries_only_its_commit_and_decodes_to_what_the_stream_record_decodes_to() -> None:
    record = tip_record(uuid.uuid4(), first=3, last=4, sequence=7, earlier=2)
    message = message_of(record)
    assert message is not None
    image = json.loads(message.body)["dynamodb"]["NewImage"]
    assert len(image["events"]["L"]) == 2
    assert "snapshot" not in image
    transported = {"messageId": "m", "body": message.body, "eventSource": "aws:sqs"}
    assert decode_message(transported, None) == decode_record(record)
    assert message.group == record["dynamodb"]["NewImage"]["pk"]["S"]
    assert message.deduplication_id == f"{message.group}#4"


def test_after_a_refused_commit_the_aggregates_later_commits_are_held_back_and_reported() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    records = [tip_record(a, 1, 1, 1), tip_record(b, 1, 1, 2), tip_record(a, 2, 2, 3), tip_record(b, 2, 2, 4)]
    topic = Topic(refuse={"1"})
    response = publish_stream_batch({"Records": records}, topic)
    assert response == {"batchItemFailures": [{"itemIdentifier": "1"}, {"itemIdentifier": "3"}]}
    assert [m.record_id for m in topic.published] == ["2", "4"]


def test_a_large_batch_is_published_ten_messages_per_call_in_stream_order() -> None:
    records = [tip_record(uuid.uuid4(), 1, 1, n) for n in range(1, 26)]
    topic = Topic()
    assert publish_stream_batch({"Records": records}, topic) == {"batchItemFailures": []}
    assert topic.calls == [MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES, 5]
    assert [m.record_id for m in topic.published] == [str(n) for n in range(1, 26)]


def test_records_that_are_not_commits_publish_nothing() -> None:
    removal = {**tip_record(uuid.uuid4(), 1, 1, 1), "eventName": "REMOVE"}
    topic = Topic()
    assert publish_stream_batch({"Records": [removal]}, topic) == {"batchItemFailures": []}
    assert topic.calls == []


def test_a_message_names_the_event_types_of_its_commit_once_each_for_routing() -> None:
    record = tip_record(uuid.uuid4(), first=3, last=4, sequence=7, earlier=2, kinds=("Ticked", "Tocked"))
    message = message_of(record)
    assert message is not None
    assert message.event_types == ("Ticked", "Tocked")
    assert message.size() == len(message.body.encode())


def test_a_consumer_declaring_no_types_takes_every_commit_and_one_declaring_some_only_theirs() -> None:
    assert reacting_to([ResponseSaga(2), InvitationProjector()]) is None
    assert reacting_to([ResponseSaga(2)]) == frozenset({"InviteAccepted"})
    assert concerns(frozenset({"InviteAccepted"}), ["InviteCreated", "InviteAccepted"])
    assert not concerns(frozenset({"InviteAccepted"}), ["InviteConfirmed"])


def test_a_message_names_the_types_the_tip_held_before_its_commit_by_version() -> None:
    with_earlier = message_of(tip_record(uuid.uuid4(), first=3, last=4, sequence=7, earlier=2))
    alone = message_of(tip_record(uuid.uuid4(), first=1, last=1, sequence=8))
    assert with_earlier is not None
    assert alone is not None
    assert preceding_types({"body": with_earlier.body}) == {1: "Ticked", 2: "Ticked"}
    assert preceding_types({"body": alone.body}) == {}


def test_a_stream_record_vouches_for_the_types_its_tip_held_before_the_commit() -> None:
    image = tip_record(uuid.uuid4(), first=3, last=4, sequence=7, earlier=2)["dynamodb"]["NewImage"]
    assert layout.preceding_types(image) == {1: "Ticked", 2: "Ticked"}


def test_a_commit_no_queued_consumer_reacts_to_is_not_published_and_reported_done() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    records = [tip_record(a, 1, 1, 1, kinds=("Ticked",)), tip_record(b, 1, 1, 2, kinds=("Tocked",))]
    topic = Topic()
    assert publish_stream_batch({"Records": records}, topic, frozenset({"Tocked"})) == {"batchItemFailures": []}
    assert [m.record_id for m in topic.published] == ["2"]
    assert topic.calls == [1]


def test_a_commit_mixing_a_published_type_with_others_is_published_whole() -> None:
    record = tip_record(uuid.uuid4(), 1, 2, 1, kinds=("Ticked", "Tocked"))
    topic = Topic()
    assert publish_stream_batch({"Records": [record]}, topic, frozenset({"Tocked"})) == {"batchItemFailures": []}
    (message,) = topic.published
    assert message.event_types == ("Ticked", "Tocked")
    assert [e.type for e in decode_message({"body": message.body}, None)] == ["Ticked", "Tocked"]


def test_every_commit_is_published_when_some_consumer_reacts_to_every_type() -> None:
    records = [tip_record(uuid.uuid4(), 1, 1, n, kinds=(kind,)) for n, kind in enumerate(("Ticked", "Tocked"), 1)]
    topic = Topic()
    assert publish_stream_batch({"Records": records}, topic, None) == {"batchItemFailures": []}
    assert [m.record_id for m in topic.published] == ["1", "2"]


def test_a_batch_of_commits_nobody_takes_makes_no_request() -> None:
    records = [tip_record(uuid.uuid4(), 1, 1, n) for n in range(1, 4)]
    topic = Topic()
    assert publish_stream_batch({"Records": records}, topic, frozenset()) == {"batchItemFailures": []}
    assert topic.calls == []


def test_a_skipped_commit_after_its_aggregates_failure_is_reported_with_it_and_one_before_is_not() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    records = [
        tip_record(a, 1, 1, 1, kinds=("Ticked",)),  # skipped, before the failure: done
        tip_record(a, 2, 2, 2, kinds=("Tocked",)),  # refused
        tip_record(b, 1, 1, 3, kinds=("Tocked",)),  # another aggregate: published
        tip_record(a, 3, 3, 4, kinds=("Ticked",)),  # skipped, after the failure: redelivered after it
        tip_record(a, 4, 4, 5, kinds=("Tocked",)),  # held back
    ]
    topic = Topic(refuse={"2"})
    response = publish_stream_batch({"Records": records}, topic, frozenset({"Tocked"}))
    assert response == {"batchItemFailures": [{"itemIdentifier": n} for n in ("2", "4", "5")]}
    assert [m.record_id for m in topic.published] == ["3"]


class Queues:
    """An SQS client's SendMessageBatch: what each queue received, in order; the entries it is told to refuse (by
    queue and deduplication id) fail."""

    def __init__(self, refuse: dict[str, set[str]] | None = None, down: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse or {}
        self.down = down
        self.received: dict[str, list[str]] = {}
        self.requests: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        self.requests.append(QueueUrl)
        if QueueUrl in self.down:
            raise ConnectionError(QueueUrl)
        refused = self.refuse.get(QueueUrl, set())
        failed = [e for e in Entries if e["MessageDeduplicationId"] in refused]
        taken = [e for e in Entries if e not in failed]
        for entry in taken:
            assert entry["MessageGroupId"]
            assert entry["MessageDeduplicationId"]
            self.received.setdefault(QueueUrl, []).append(entry["MessageDeduplicationId"])
        return {"Failed": [{"Id": e["Id"], "Code": "Throttled", "SenderFault": False} for e in failed]}


def deduplication_ids(records: Sequence[dict[str, Any]]) -> list[str]:
    messages = [message_of(record) for record in records]
    return [m.deduplication_id for m in messages if m is not None]


def test_each_queue_receives_only_the_commits_its_consumer_reacts_to_one_request_per_chunk() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    records = [
        tip_record(a, 1, 1, 1, kinds=("Ticked",)),
        tip_record(b, 1, 1, 2, kinds=("Tocked",)),
        tip_record(a, 2, 3, 3, kinds=("Ticked", "Tocked")),
    ]
    ids = deduplication_ids(records)
    queues = Queues()
    publisher = QueuePublisher(
        queues,  # type: ignore[arg-type]
        [Route("Ticks", "q-ticks", frozenset({"Ticked"})), Route("Tocks", "q-tocks", frozenset({"Tocked"}))],
    )
    assert publish_stream_batch({"Records": records}, publisher, publisher.publishes) == {"batchItemFailures": []}
    assert queues.received == {"q-ticks": [ids[0], ids[2]], "q-tocks": [ids[1], ids[2]]}
    # Two chunks (a's two commits may not share one), each to both queues it concerns.
    assert queues.requests == ["q-ticks", "q-tocks", "q-ticks", "q-tocks"]


def test_a_commit_one_queue_refuses_fails_with_its_aggregates_later_commits_for_every_queue() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    records = [tip_record(a, 1, 1, 1), tip_record(b, 1, 1, 2), tip_record(a, 2, 2, 3)]
    ids = deduplication_ids(records)
    queues = Queues(refuse={"q-two": {ids[0]}})
    publisher = QueuePublisher(queues, [Route("One", "q-one"), Route("Two", "q-two")])  # type: ignore[arg-type]
    response = publish_stream_batch({"Records": records}, publisher, publisher.publishes)
    # The stream delivers a's first commit again (q-one drops the copy by its deduplication id) and then its second.
    assert response == {"batchItemFailures": [{"itemIdentifier": "1"}, {"itemIdentifier": "3"}]}
    assert queues.received == {"q-one": [ids[0], ids[1]], "q-two": [ids[1]]}


def test_a_queue_that_cannot_be_reached_fails_every_commit_sent_to_it_and_no_other() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    records = [tip_record(a, 1, 1, 1, kinds=("Ticked",)), tip_record(b, 1, 1, 2, kinds=("Tocked",))]
    queues = Queues(down=frozenset({"q-tocks"}))
    publisher = QueuePublisher(
        queues,  # type: ignore[arg-type]
        [Route("Ticks", "q-ticks", frozenset({"Ticked"})), Route("Tocks", "q-tocks", frozenset({"Tocked"}))],
    )
    response = publish_stream_batch({"Records": records}, publisher, publisher.publishes)
    assert response == {"batchItemFailures": [{"itemIdentifier": "2"}]}


def test_the_dispatcher_sends_what_some_route_reacts_to_and_every_type_when_one_takes_all() -> None:
    routes = [Route("A", "qa", frozenset({"B"})), Route("B", "qb", frozenset({"A", "B"}))]
    assert QueuePublisher(Queues(), routes).publishes == frozenset({"A", "B"})  # type: ignore[arg-type]
    assert QueuePublisher(Queues(), [*routes, Route("C", "qc")]).publishes is None  # type: ignore[arg-type]
    assert QueuePublisher(Queues(), []).publishes == frozenset()  # type: ignore[arg-type]


def test_the_dispatchers_environment_names_each_route_and_reads_back_the_same() -> None:
    routes = [Route("Saga", "https://q/saga.fifo", frozenset({"B", "A"})), Route("Audit", "https://q/audit.fifo")]
    environment = dispatcher_environment(routes)
    assert json.loads(environment[FANOUT_QUEUES]) == [
        {"consumer": "Saga", "queue_url": "https://q/saga.fifo", "reacts_to": ["A", "B"]},
        {"consumer": "Audit", "queue_url": "https://q/audit.fifo", "reacts_to": None},
    ]
    assert routes_of(environment[FANOUT_QUEUES]) == tuple(routes)


def test_an_unset_routes_variable_fails_on_first_use_and_a_malformed_one_fails_loudly() -> None:
    with pytest.raises(LookupError, match=FANOUT_QUEUES):
        routes_of(None)
    assert routes_of("[]") == ()
    for bad in ('"Saga"', "[1]", '[{"consumer": "Saga"}]', '[{"consumer": "S", "queue_url": "q", "reacts_to": [1]}]'):
        with pytest.raises(ValueError, match=FANOUT_QUEUES):
            routes_of(bad)


def test_the_fanout_function_sends_to_the_queues_its_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        FANOUT_QUEUES, dispatcher_environment([Route("Tocks", "q-tocks", frozenset({"Tocked"}))])[FANOUT_QUEUES]
    )
    container = composition.Container(composition.Settings.from_env())
    queues = Queues()
    container.sqs = queues  # type: ignore[assignment]
    records = [tip_record(uuid.uuid4(), 1, 1, n, kinds=(kind,)) for n, kind in enumerate(("Ticked", "Tocked"), 1)]
    composition.use(container)
    try:
        assert fanout_function.handler({"Records": records}, LocalContext("fanout")) == {"batchItemFailures": []}
    finally:
        composition.use(None)
    assert queues.received == {"q-tocks": deduplication_ids(records[1:])}
