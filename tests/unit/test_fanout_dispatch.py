"""The dispatcher's rules, without AWS: one message per commit, in order per aggregate, failures reported."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from domain.guest_list import InvitationProjector
from domain.response_saga import ResponseSaga
from horizon.dynamodb import layout
from horizon.dynamodb.fanout import (
    EVENT_TYPES,
    MAX_BATCH_ENTRIES,
    Message,
    decode_message,
    filter_policy,
    message_of,
    preceding_types,
    publish_stream_batch,
)
from horizon.dynamodb.layout import encode_event
from horizon.dynamodb.streams import decode_record
from horizon.events import Event, Metadata
from horizon.projection import concerns, reacting_to

META = Metadata(correlation_id="c", causation_id="c", command="Test")


def tip_record(aggregate: uuid.UUID, first: int, last: int, sequence: int, earlier: int = 0) -> dict[str, Any]:
    """A stream record of a tip written by the commit first..last, still holding `earlier` older events."""
    events = [
        Event(aggregate_type="Thing", aggregate_id=aggregate, version=v, type="Ticked", data={"n": v}, metadata=META)
        for v in range(first - earlier, last + 1)
    ]
    image = {
        "pk": {"S": f"Thing#{aggregate}"},
        "sk": {"N": "0"},
        "version": {"N": str(last)},
        "first": {"N": str(first)},
        "events": {"L": [{"S": encode_event(e)} for e in events]},
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


def test_a_message_names_the_event_types_of_its_commit_once_each_for_the_subscriptions_filter() -> None:
    record = tip_record(uuid.uuid4(), first=3, last=4, sequence=7, earlier=2)
    events = record["dynamodb"]["NewImage"]["events"]["L"]
    events[-1] = {"S": events[-1]["S"].replace('"t":"Ticked"', '"t":"Tocked"')}
    message = message_of(record)
    assert message is not None
    assert message.event_types == ("Ticked", "Tocked")
    assert message.attributes() == {EVENT_TYPES: {"DataType": "String.Array", "StringValue": '["Ticked", "Tocked"]'}}
    assert message.size() > len(message.body.encode())


def test_a_consumer_declaring_no_types_is_not_filtered_and_one_declaring_some_filters_on_their_union() -> None:
    assert filter_policy(None) is None
    assert filter_policy(frozenset({"B", "A"})) == {EVENT_TYPES: ["A", "B"]}
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
