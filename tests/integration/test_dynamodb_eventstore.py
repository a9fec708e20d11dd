"""What only the DynamoDB event store has to get right: Query pages, transaction limits and the tip item."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

import pytest

from horizon.dynamodb import DynamoDBEventStore
from horizon.dynamodb.eventstore import MAX_COMMIT_BYTES, MAX_EVENTS_PER_COMMIT, MAX_SNAPSHOT_BYTES, TIP_BUDGET
from horizon.dynamodb.layout import TIP_SORT_KEY, bodies_of, decode_tip, encode_event, stream_key
from horizon.errors import ConcurrencyError, InvalidEvents
from horizon.eventstore import Snapshot

from .dynamodb_fakes import ContendedClient
from .eventstore_contract import THING, make_commit, make_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def count_queries(client: DynamoDBClient) -> list[str]:
    """Record one entry per Query request the client sends from now on."""
    calls: list[str] = []

    def record(**kwargs: Any) -> None:
        calls.append("Query")

    client.meta.events.register("before-call.dynamodb.Query", record)
    return calls


def test_a_history_larger_than_one_query_page_loads_completely(
    dynamodb: DynamoDBClient, dynamodb_event_store: DynamoDBEventStore
) -> None:
    # GIVEN 48 events of 40 KB each, random so that packing shrinks them only to ~30 KB (> 1 MB in all), in
    # commits of 6 to stay under the commit limit. No page_size: moto cuts Query responses at 1 MB like DynamoDB
    # does, so the pages are real.
    aggregate_id = uuid4()
    events = [make_event(aggregate_id, v, data={"blob": secrets.token_urlsafe(30_000)}) for v in range(1, 49)]
    for start in range(0, 48, 6):
        dynamodb_event_store.append(events[start : start + 6], start)
    queries = count_queries(dynamodb)

    # WHEN the whole history is loaded
    loaded = dynamodb_event_store.load(THING, aggregate_id)

    # THEN every event came back, in order, over more than one page
    assert loaded == events
    assert len(queries) > 1


def test_a_small_page_size_still_loads_everything_after_a_version(dynamodb: DynamoDBClient) -> None:
    # GIVEN seven one-event commits of 2 KB each, so every commit calves the one before into a batch item
    store = DynamoDBEventStore(dynamodb, "events", page_size=2)
    aggregate_id = uuid4()
    events = make_commit(aggregate_id, 1, 7, data={"blob": "x" * 2_000})
    for event in events:
        store.append([event], event.version - 1)
    queries = count_queries(dynamodb)

    # WHEN the history after v2 is loaded two batches per page, THEN it is complete and took several pages
    assert store.load(THING, aggregate_id, after_version=2) == events[2:]
    assert len(queries) >= 2


def test_a_commit_of_more_events_than_one_transaction_holds_is_rejected(
    dynamodb_event_store: DynamoDBEventStore,
) -> None:
    aggregate_id = uuid4()

    with pytest.raises(InvalidEvents, match=str(MAX_EVENTS_PER_COMMIT)):
        dynamodb_event_store.append(make_commit(aggregate_id, 1, MAX_EVENTS_PER_COMMIT + 1), 0)

    assert dynamodb_event_store.load(THING, aggregate_id) == []


def test_the_largest_commit_one_transaction_holds_is_stored(dynamodb_event_store: DynamoDBEventStore) -> None:
    aggregate_id = uuid4()
    events = make_commit(aggregate_id, 1, MAX_EVENTS_PER_COMMIT)

    dynamodb_event_store.append(events, 0)

    assert dynamodb_event_store.load(THING, aggregate_id) == events


def test_a_commit_larger_than_the_tip_item_can_hold_is_rejected(dynamodb_event_store: DynamoDBEventStore) -> None:
    aggregate_id = uuid4()
    blob = "x" * (MAX_COMMIT_BYTES // 3)
    too_big = make_commit(aggregate_id, 1, 4, data={"blob": blob})

    with pytest.raises(InvalidEvents, match="larger than"):
        dynamodb_event_store.append(too_big, 0)

    assert dynamodb_event_store.load(THING, aggregate_id) == []


def test_the_tip_item_holds_the_latest_commit_and_the_version(
    dynamodb: DynamoDBClient, dynamodb_event_store: DynamoDBEventStore
) -> None:
    # GIVEN two commits
    aggregate_id = uuid4()
    dynamodb_event_store.append(make_commit(aggregate_id, 1, 2), 0)
    latest = make_commit(aggregate_id, 3, 4)
    dynamodb_event_store.append(latest, 2)

    # WHEN the tip item is read the way a stream record would carry it
    key = {"pk": {"S": stream_key(THING, aggregate_id)}, "sk": {"N": TIP_SORT_KEY}}
    tip = dynamodb.get_item(TableName="events", Key=key, ConsistentRead=True)["Item"]

    # THEN it decodes to exactly the latest commit, and its version is the stream's version
    assert decode_tip(dict(tip)) == latest
    assert tip["version"] == {"N": "4"}


def test_a_tip_written_before_packing_is_read_appended_to_and_calved_with_its_history_whole(
    dynamodb: DynamoDBClient,
) -> None:
    # GIVEN a tip as the store wrote it before envelopes were packed: a list of strings
    aggregate_id = uuid4()
    old = make_commit(aggregate_id, 1, 2)
    bodies = [encode_event(event) for event in old]
    key = {"pk": {"S": stream_key(THING, aggregate_id)}, "sk": {"N": TIP_SORT_KEY}}
    legacy: dict[str, Any] = key | {
        "version": {"N": "2"},
        "first": {"N": "1"},
        "events": {"L": [{"S": body} for body in bodies]},
        "bytes": {"N": str(sum(len(body.encode()) for body in bodies))},
    }
    dynamodb.put_item(TableName="events", Item=legacy)
    store = DynamoDBEventStore(dynamodb, "events")

    # WHEN a cold store appends a small commit, then one that passes the tip's budget and calves
    small = make_commit(aggregate_id, 3, 3)
    store.append(small, 2)
    appended = dynamodb.get_item(TableName="events", Key=key, ConsistentRead=True)["Item"]
    big = make_commit(aggregate_id, 4, 4, data={"blob": secrets.token_urlsafe(TIP_BUDGET)})
    DynamoDBEventStore(dynamodb, "events").append(big, 3)

    # THEN the appended tip holds all three envelopes packed, and the whole history loads, calved batch included
    assert "B" in appended["events"]
    assert len(bodies_of(dict(appended))) == 3
    batch = dynamodb.get_item(TableName="events", Key=key | {"sk": {"N": "3"}}, ConsistentRead=True).get("Item")
    assert batch is not None
    assert len(bodies_of(dict(batch))) == 3
    assert store.load(THING, aggregate_id) == [*old, *small, *big]


def test_decoding_an_event_item_instead_of_a_tip_yields_nothing() -> None:
    body = make_event(uuid4(), 1).model_dump_json()

    assert decode_tip({"pk": {"S": "Thing#x"}, "sk": {"N": "1"}, "body": {"S": body}}) == []


def test_a_transaction_cancelled_by_a_concurrent_transaction_is_a_concurrency_error(dynamodb: DynamoDBClient) -> None:
    # GIVEN a store whose transactions lose to another writer's transaction on the same tip item
    store = DynamoDBEventStore(cast("DynamoDBClient", ContendedClient(dynamodb)), "events")
    aggregate_id = uuid4()

    # WHEN it appends, THEN the caller is told to reload and retry, as for any other concurrent writer
    with pytest.raises(ConcurrencyError) as caught:
        store.append(make_commit(aggregate_id, 1, 1), 0)

    assert caught.value.expected == 0


def test_a_commit_of_120000_emoji_is_refused_by_its_bytes_not_by_dynamodb(
    dynamodb_event_store: DynamoDBEventStore,
) -> None:
    # 120,000 characters, 480,000 UTF-8 bytes: a character count would let it through to a raw ValidationException
    aggregate_id = uuid4()

    with pytest.raises(InvalidEvents, match="bytes"):
        dynamodb_event_store.append(make_commit(aggregate_id, 1, 1, data={"s": "\U0001f600" * 120_000}), 0)

    assert dynamodb_event_store.load(THING, aggregate_id) == []


def test_a_lost_race_carries_the_winners_head_from_the_failed_write(
    dynamodb_event_store: DynamoDBEventStore,
) -> None:
    aggregate_id = uuid4()
    dynamodb_event_store.append(make_commit(aggregate_id, 1, 1), 0)
    dynamodb_event_store.append(make_commit(aggregate_id, 2, 3), 1, Snapshot(3, 1, '{"n":3}'))

    with pytest.raises(ConcurrencyError) as caught:
        dynamodb_event_store.append(make_commit(aggregate_id, 2, 2), 1)

    assert caught.value.head == dynamodb_event_store.load_head(THING, aggregate_id)
    assert caught.value.head is not None
    assert caught.value.head.snapshot == Snapshot(3, 1, '{"n":3}')


def test_a_state_too_large_for_the_tip_is_not_kept_and_the_history_stays(
    dynamodb_event_store: DynamoDBEventStore,
) -> None:
    aggregate_id = uuid4()
    events = make_commit(aggregate_id, 1, 2)

    dynamodb_event_store.append(events, 0, Snapshot(2, 1, '"' + "x" * MAX_SNAPSHOT_BYTES + '"'))

    head = dynamodb_event_store.load_head(THING, aggregate_id)
    assert (head.version, head.snapshot, list(head.events)) == (2, None, events)


def test_calving_keeps_the_history_whole_and_the_recent_command_ids_on_the_tip(
    dynamodb_event_store: DynamoDBEventStore,
) -> None:
    # GIVEN 40 one-event commits of 1 KB each, so the tip calves its pending events several times
    aggregate_id = uuid4()
    events = [make_event(aggregate_id, version, data={"blob": "x" * 1_000}) for version in range(1, 41)]
    for event in events:
        command = event.metadata.model_copy(update={"command_id": f"cmd-{event.version}"})
        dynamodb_event_store.append([event.model_copy(update={"metadata": command})], event.version - 1)

    head = dynamodb_event_store.load_head(THING, aggregate_id)
    loaded = dynamodb_event_store.load(THING, aggregate_id)

    assert [event.version for event in loaded] == list(range(1, 41))
    assert len(head.events) < 40, "older events moved into batch items"
    assert {f"cmd-{version}" for version in range(25, 41)} <= {record.command_id for record in head.commands}


def test_an_aggregate_type_that_would_share_the_claim_items_prefix_is_refused() -> None:
    # IAM lets the command function delete items under `claim#` only: no stream may live there.
    with pytest.raises(ValueError, match="may not be 'claim'"):
        stream_key("claim", uuid4())
    assert stream_key("Claim", uuid4()).startswith("Claim#")
