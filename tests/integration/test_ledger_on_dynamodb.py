"""The ledger on DynamoDB (moto): a shared document and its positions as plain PutItems, and a crash between."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from domain import build_registry
from domain.guest_list import GUEST_LIST_KEY, GuestListProjector
from domain.invitation import AcceptInvite, CreateInvite
from domain.response_saga import ResponseSaga
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime
from horizon.dynamodb import DynamoDBEventStore, DynamoDBReadStore
from horizon.events import Event
from horizon.readstore import Write
from tests.principals import as_host

from .conftest import READ_TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Crash(Exception):
    """The process died."""


class DyingAfterFirstWrite(DynamoDBReadStore):
    """Its process dies right after its first commit took effect."""

    died = False

    def commit(self, writes: Sequence[Write]) -> None:
        if self.died:
            raise Crash("the process is gone")
        super().commit(writes)
        self.died = True
        raise Crash("after the shared document's write")


def accepted(handler: CommandHandler) -> tuple[UUID, tuple[Event, ...]]:
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Guest"), as_host())
    return invite_id, handler.handle(AcceptInvite(id=invite_id), as_host()).events


def test_the_list_and_the_saga_write_their_positions_ahead_then_plainly_and_skip_duplicates(
    dynamodb: DynamoDBClient, dynamodb_event_store: DynamoDBEventStore, dynamodb_read_store: DynamoDBReadStore
) -> None:
    registry = build_registry()
    handler = CommandHandler(registry, dynamodb_event_store)
    invite_id, accept = accepted(handler)
    projector = ProjectorRuntime(GuestListProjector(2), registry, dynamodb_read_store, dynamodb_event_store)
    saga = SagaRuntime(ResponseSaga(2), registry, dynamodb_read_store, dynamodb_event_store, handler)
    for _ in range(2):
        projector.process(accept)
        saga.process(accept)
    guest_list = dynamodb_read_store.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert guest_list is not None
    assert guest_list.body["num_accepted"] == 1
    assert guest_list.ledger == {f"Invitation#{invite_id}": {"version": 2, "outbox": []}}
    item = dynamodb.get_item(TableName=READ_TABLE, Key={"pk": {"S": "GuestList"}, "sk": {"S": GUEST_LIST_KEY}})
    assert "ledger" not in item["Item"]["body"]["S"]  # beside the body: queries never see it
    for runtime in (projector, saga):
        tracking = dynamodb_read_store.get(f"_tracking.{runtime.name}", f"Invitation#{invite_id}")
        assert tracking is not None
        assert tracking.body == {"version": 2, "outbox": []}
    kinds = [event.type for event in dynamodb_event_store.load("Invitation", invite_id)]
    assert kinds == ["InviteCreated", "InviteAccepted", "InviteConfirmed"]


def test_a_crash_after_the_list_is_written_is_healed_by_redelivery_once(
    dynamodb: DynamoDBClient, dynamodb_event_store: DynamoDBEventStore, dynamodb_read_store: DynamoDBReadStore
) -> None:
    registry = build_registry()
    handler = CommandHandler(registry, dynamodb_event_store)
    (first, a), (second, b) = accepted(handler), accepted(handler)
    dying = DyingAfterFirstWrite(dynamodb, READ_TABLE)
    failed = ProjectorRuntime(GuestListProjector(2), registry, dying, dynamodb_event_store).process_batch([a, b])
    assert set(failed) == {a[0].stream, b[0].stream}
    runtime = ProjectorRuntime(GuestListProjector(2), registry, dynamodb_read_store, dynamodb_event_store)
    assert dynamodb_read_store.get(f"_tracking.{runtime.name}", f"Invitation#{first}") is None
    assert [runtime.position("Invitation", i) for i in (first, second)] == [2, 2]  # seen in the ledger
    for batch in ([a, b], [b], [a, b]):
        assert runtime.process_batch(batch) == {}
    guest_list = dynamodb_read_store.get(GuestListProjector.name, GUEST_LIST_KEY)
    assert guest_list is not None
    assert guest_list.body["num_accepted"] == 2
    for invite_id in (first, second):
        tracking = dynamodb_read_store.get(f"_tracking.{runtime.name}", f"Invitation#{invite_id}")
        assert tracking is not None
        assert tracking.body == {"version": 2, "outbox": []}


def test_a_ledger_is_stored_deflated_with_bare_versions_and_one_written_as_json_text_still_reads(
    dynamodb: DynamoDBClient, dynamodb_read_store: DynamoDBReadStore
) -> None:
    ledger = {f"Invitation#{uuid4()}": {"version": 2, "outbox": []} for _ in range(100)}
    ledger["Invitation#sent"] = {"version": 3, "outbox": [{"type": "ConfirmInvite", "body": "{}"}]}
    dynamodb_read_store.commit([Write("GuestList", "deflated", {"num_accepted": 1}, 0, ledger=ledger)])
    key = {"pk": {"S": "GuestList"}, "sk": {"S": "deflated"}}
    stored = dynamodb.get_item(TableName=READ_TABLE, Key=key)["Item"]["ledger"]
    # Billed with every write of the list: about a third of its JSON text
    assert "B" in stored
    assert len(stored["B"]) * 3 < len(json.dumps(ledger))
    document = dynamodb_read_store.get("GuestList", "deflated")
    assert document is not None
    assert document.ledger == ledger
    # An item written before deflating (JSON text, whole entries) reads the same
    item = {**key, "body": {"S": "{}"}, "revision": {"N": "1"}, "ledger": {"S": json.dumps(ledger)}}
    dynamodb.put_item(TableName=READ_TABLE, Item=item)
    legacy = dynamodb_read_store.get("GuestList", "deflated")
    assert legacy is not None
    assert legacy.ledger == ledger
