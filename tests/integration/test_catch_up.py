"""Catch-up and `horizon republish` on the DynamoDB stores (moto): Scan segments, positions, big gaps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import boto3
import pytest
from click.testing import CliRunner, Result

from domain import build_registry
from domain.guest_list import GUEST_LIST_KEY, GuestListProjector
from domain.invitation import AcceptInvite, CreateInvite
from horizon.catchup import catch_up
from horizon.cli.app import cli
from horizon.cli.target import DEFAULT_KEYS_TABLE, DEFAULT_KMS_KEY
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime
from horizon.dynamodb import DynamoDBEventStore, DynamoDBReadStore
from horizon.dynamodb.datakeys import create_local_keys
from horizon.generations import live_collection
from horizon.readstore import Write
from tests.catch_up_support import COUNTER_KEY, EventCounter, EventLog, long_history
from tests.integration.conftest import EVENTS_TABLE, READ_TABLE
from tests.principals import as_host

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture(autouse=True)
def data_keys(dynamodb: DynamoDBClient) -> None:
    """The keys table and wrapping key the CLI seals with, as the local stack creates them (the saga's commands
    snapshot an invitation, and its state holds personal data)."""
    create_local_keys(dynamodb, boto3.client("kms"), DEFAULT_KEYS_TABLE, DEFAULT_KMS_KEY)


def horizon(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--events-table", EVENTS_TABLE, "--read-table", READ_TABLE, *args])


def accepted(store: DynamoDBEventStore, count: int) -> list[UUID]:
    handler = CommandHandler(build_registry(), store)
    ids = [uuid4() for _ in range(count)]
    for invite_id in ids:
        handler.handle(CreateInvite(id=invite_id, name="Guest"), as_host())
        handler.handle(AcceptInvite(id=invite_id), as_host())
    return ids


class SizedReadStore(DynamoDBReadStore):
    """Remembers the number of actions of every commit."""

    sizes: list[int]

    def commit(self, writes: Sequence[Write]) -> None:
        self.sizes = [*getattr(self, "sizes", []), len(writes)]
        super().commit(writes)


def test_parallel_scan_segments_list_every_tip_once_and_no_batch_item(
    dynamodb_event_store: DynamoDBEventStore, dynamodb: DynamoDBClient
) -> None:
    ids = accepted(dynamodb_event_store, 6)
    long_history(dynamodb_event_store, 300)  # calved into batch items, which must not be listed
    paged = DynamoDBEventStore(dynamodb, EVENTS_TABLE, page_size=2)

    listed = [ref for segment in range(4) for ref in paged.aggregates(segment, 4)]

    assert len(listed) == 7
    assert set(ids) <= {ref.aggregate_id for ref in listed}
    assert sorted(ref.version for ref in listed) == [2, 2, 2, 2, 2, 2, 300]


def test_a_gap_of_500_events_feeding_a_shared_counter_fits_dynamodb_transactions_and_counts_once(
    dynamodb_event_store: DynamoDBEventStore, dynamodb: DynamoDBClient
) -> None:
    history = long_history(dynamodb_event_store, 500)
    reads = SizedReadStore(dynamodb, READ_TABLE)
    runtime = ProjectorRuntime(EventCounter(), build_registry(), reads, dynamodb_event_store)

    runtime.process(history[-50:])  # a gap of 450 events, repaired from the store
    catch_up(runtime)
    runtime.process(history[:50])  # an old record redelivered

    tally = reads.get(EventCounter.name, COUNTER_KEY)
    assert tally is not None
    assert tally.body == {"events": 500}
    assert max(reads.sizes) <= 100


def test_a_gap_of_500_events_in_one_stream_batch_for_a_document_per_event_projector_commits_in_bounded_chunks(
    dynamodb_event_store: DynamoDBEventStore, dynamodb: DynamoDBClient
) -> None:
    history = long_history(dynamodb_event_store, 500)
    reads = SizedReadStore(dynamodb, READ_TABLE)
    runtime = ProjectorRuntime(EventLog(), build_registry(), reads, dynamodb_event_store)

    failed = runtime.process_batch([history[-1:]])  # one record: the 499 before it are read back from the store
    redelivered = runtime.process_batch([history[-50:], history[:1]])

    assert (failed, redelivered) == ({}, {})
    assert max(reads.sizes) <= 100
    assert len(reads.sizes) == 6  # 500 documents and a position per chunk: 99 events per transaction
    stream = f"{history[0].aggregate_id}"
    listed = reads.list(EventLog.name, 1000).items
    assert sorted(document.body["version"] for document in listed) == list(range(1, 501))
    assert all(document.key.startswith(stream) for document in listed)
    assert runtime.position("Invitation", history[0].aggregate_id) == 500


def test_republish_brings_a_projector_up_to_date_and_a_second_run_offers_nothing(
    dynamodb_event_store: DynamoDBEventStore, dynamodb_read_store: DynamoDBReadStore
) -> None:
    accepted(dynamodb_event_store, 3)

    first = horizon("republish", GuestListProjector.name, "--segments", "3")
    second = horizon("republish", GuestListProjector.name, "--type", "Invitation")

    assert first.exit_code == 0, first.output
    assert first.output == "GuestList: 3 aggregates, 6 events offered, 0 failed\n"
    assert second.output == "GuestList: 3 aggregates, 0 events offered, 0 failed\n"
    document = dynamodb_read_store.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert document is not None
    assert (document.body["num_guests"], document.body["num_accepted"]) == (3, 3)


def test_republish_of_one_aggregate_and_of_the_saga_decides_once(
    dynamodb_event_store: DynamoDBEventStore,
) -> None:
    first, _ = accepted(dynamodb_event_store, 2)

    one = horizon("republish", "ResponseSaga", "--type", "Invitation", "--id", str(first))
    again = horizon("republish", "ResponseSaga")

    assert one.output.startswith("ResponseSaga: 1 aggregates, 2 events offered")
    assert again.exit_code == 0, again.output
    assert [event.type for event in dynamodb_event_store.load("Invitation", first)][-1] == "InviteConfirmed"
    assert len(dynamodb_event_store.load("Invitation", first)) == 3


def test_republish_refuses_an_unknown_handler_and_an_id_without_its_type(
    dynamodb_event_store: DynamoDBEventStore,
) -> None:
    unknown = horizon("republish", "Nobody")
    lonely = horizon("republish", "GuestList", "--id", str(uuid4()))

    assert (unknown.exit_code, lonely.exit_code) == (2, 2)
    assert "GuestList, Invitation, ResponseSaga" in unknown.output
    assert "--id needs --type" in lonely.output


def test_rebuild_builds_the_next_generation_switches_readers_and_deletes_the_old_one(
    dynamodb_event_store: DynamoDBEventStore, dynamodb_read_store: DynamoDBReadStore
) -> None:
    accepted(dynamodb_event_store, 3)
    assert horizon("republish", GuestListProjector.name).exit_code == 0  # generation 0, as the stream built it

    # The settle is the stream runtimes' pointer cache, which the CLI will not shorten: 10 s of this test.
    result = horizon("rebuild", GuestListProjector.name, "--segments", "2", "--grace", "0")

    assert (result.exit_code, result.output) == (0, "GuestList: generation 1 is live\n")
    assert live_collection(dynamodb_read_store, GuestListProjector.name) == "GuestList@1"
    document = dynamodb_read_store.get("GuestList@1", GUEST_LIST_KEY)
    assert document is not None
    assert document.body["num_accepted"] == 3
    assert dynamodb_read_store.get(GuestListProjector.name, GUEST_LIST_KEY) is None


def test_rebuilding_a_saga_is_refused_and_says_why(dynamodb_event_store: DynamoDBEventStore) -> None:
    result = horizon("rebuild", "ResponseSaga")

    assert result.exit_code == 2
    assert "ResponseSaga is a saga" in result.output
