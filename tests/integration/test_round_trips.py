"""The DynamoDB round trips of the hot paths are part of the contract: a regression here costs money."""

from __future__ import annotations

import json
import uuid

import pytest

from domain.invitation import AcceptInvite, ConfirmInvite, CreateInvite, Invitation, InvitationState, InviteAccepted
from horizon import generations
from horizon.command_handler import CommandHandler
from horizon.events import Event, Metadata
from horizon.eventstore import Snapshot
from tests.item_size import item_bytes
from tests.moto_container import another_lambda, moto_container
from tests.principals import as_host, as_saga


def test_a_cold_command_costs_one_read_and_one_write_whatever_the_history() -> None:
    with moto_container() as (container, counter):
        # GIVEN an invitation with 300 events, most of them calved into batch items, and its snapshot on the tip
        invite = uuid.uuid4()
        container.command_handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
        meta = Metadata(correlation_id="c", causation_id="c", command="AcceptInvite")
        for version in range(2, 301):
            event = Event(
                aggregate_type="Invitation",
                aggregate_id=invite,
                version=version,
                type=InviteAccepted.event_type,
                metadata=meta,
            )
            state = json.dumps(InvitationState(name="Athena", status="accepted").model_dump(mode="json"))
            container.event_store.append([event], version - 1, Snapshot(version, Invitation.state_version, state))
        # A cold Lambda: a container of its own, with no tip, aggregate or data key in memory.
        cold = CommandHandler(container.registry, another_lambda(container).event_store)
        # WHEN a fresh handler (a cold Lambda) confirms it
        with counter.measure() as calls:
            result = cold.handle(ConfirmInvite(id=invite), as_saga())
        # THEN it read once and wrote once, whatever the history's length: one BatchGetItem of the tip and the
        # data key that opens its sealed snapshot, then a PutItem of the tip, or the transaction that calves the
        # tip's pending events with it when they pass its budget (every ~4 KB of events; whether this commit is
        # the one depends on envelope sizes, e.g. the actor in its metadata)
        assert result.version == 301
        assert calls["BatchGetItem"] == 1
        assert calls["PutItem"] + calls["TransactWriteItems"] == 1
        assert set(calls) <= {"BatchGetItem", "PutItem", "TransactWriteItems"}


def test_a_cold_command_reads_the_tip_alone_when_the_data_key_is_already_cached() -> None:
    with moto_container() as (container, counter):
        # GIVEN a cold container that has just opened the invitation's key (its first command on it)
        invite = uuid.uuid4()
        container.command_handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
        cold = another_lambda(container)
        handler = CommandHandler(container.registry, cold.event_store)
        handler.handle(AcceptInvite(id=invite), as_host())
        # WHEN a handler of the same container without an aggregate cache decides again (an accept: a no-op)
        with counter.measure() as calls:
            result = CommandHandler(container.registry, cold.event_store).handle(AcceptInvite(id=invite), as_host())
        # THEN the key came from the key cache and the tip alone from the table: one GetItem
        assert result.version == 2
        assert dict(calls) == {"GetItem": 1}


def test_a_cold_creation_writes_its_data_key_and_its_tip_and_reads_nothing() -> None:
    with moto_container() as (container, counter):
        fresh = another_lambda(container)
        CommandHandler(container.registry, fresh.event_store).handle(
            CreateInvite(id=uuid.uuid4(), name="Zeus"), as_host()
        )
        cold = CommandHandler(container.registry, fresh.event_store)
        with counter.measure() as calls:
            result = cold.handle(CreateInvite(id=uuid.uuid4(), name="Athena"), as_host())
        # The creation presumes the invitation new; its tip's condition (no tip yet) checks that
        assert result.version == 1
        assert dict(calls) == {"PutItem": 2}


def test_a_fresh_containers_first_creation_reads_the_months_branch_key_once_with_the_subject() -> None:
    with moto_container() as (container, counter):
        # The month's first subject: the read finds no branch key, so this container makes it (one more write)
        with counter.measure() as calls:
            CommandHandler(container.registry, another_lambda(container).event_store).handle(
                CreateInvite(id=uuid.uuid4(), name="Athena"), as_host()
            )
        assert dict(calls) == {"BatchGetItem": 1, "PutItem": 3}
        # Any later fresh container reads the branch key with the subject's item, then writes the key and the tip
        with counter.measure() as calls:
            CommandHandler(container.registry, another_lambda(container).event_store).handle(
                CreateInvite(id=uuid.uuid4(), name="Hera"), as_host()
            )
        assert dict(calls) == {"BatchGetItem": 1, "PutItem": 2}


def test_a_warm_command_is_one_write() -> None:
    with moto_container() as (container, counter):
        invite = uuid.uuid4()
        container.command_handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
        with counter.measure() as calls:
            container.command_handler.handle(AcceptInvite(id=invite), as_host())
        assert dict(calls) == {"PutItem": 1}


def test_a_lost_race_resyncs_from_the_failed_write_without_another_read() -> None:
    with moto_container() as (container, counter):
        # GIVEN a warm handler that cached the invitation at "invited", and another Lambda that accepted it since
        invite = uuid.uuid4()
        warm = container.command_handler
        warm.handle(CreateInvite(id=invite, name="Athena"), as_host())
        CommandHandler(container.registry, another_lambda(container).event_store).handle(
            AcceptInvite(id=invite), as_host()
        )
        # WHEN the warm handler accepts too, from its stale cache
        with counter.measure() as calls:
            result = warm.handle(AcceptInvite(id=invite), as_host())
        # THEN its write lost, the winner's tip came back with the failure, and the retry found nothing to do
        assert (result.version, result.events) == (2, ())
        assert dict(calls) == {"PutItem": 1}


def test_projecting_a_commit_costs_its_reads_and_plain_writes_and_a_duplicate_only_the_reads() -> None:
    with moto_container() as (container, counter):
        invite = uuid.uuid4()
        container.command_handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
        commit = list(container.command_handler.handle(AcceptInvite(id=invite), as_host()).events)
        created = container.event_store.load("Invitation", invite, 0)[:1]
        views, guest_list = container.projectors
        written, duplicate = {}, {}
        for runtime in (views, guest_list):
            runtime.process(created)
            with counter.measure() as first:
                runtime.process(commit)
            with counter.measure() as again:
                runtime.process(commit)
            written[runtime.name], duplicate[runtime.name] = dict(first), dict(again)
        # The invitation view keeps its position beside it: one item, no transaction. The guest list is shared
        # by every aggregate: it reads the list, then the tracking item strongly (the order the ledger needs),
        # writes the list with the position in its ledger, then the tracking item, each a plain PutItem; it kept
        # no position for the creation (which it does not count), so it reads that back from the tip once.
        assert written == {
            views.name: {"BatchGetItem": 1, "PutItem": 1},
            guest_list.name: {"BatchGetItem": 2, "GetItem": 1, "PutItem": 2},
        }
        assert duplicate == {views.name: {"BatchGetItem": 1}, guest_list.name: {"BatchGetItem": 2}}


def test_a_query_of_one_view_reads_it_with_its_generation_pointer_in_one_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(generations, "_LAST_LIVE", {})  # a fresh query function: no generation seen yet
    with moto_container() as (container, counter):
        invite = uuid.uuid4()
        container.command_handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
        views = container.projectors[0]
        views.process(container.event_store.load("Invitation", invite))
        with counter.measure() as calls:
            view = generations.read_live(container.read_store, views.name, str(invite))
        assert view is not None
        assert view.body["name"] == "Athena"
        assert dict(calls) == {"BatchGetItem": 1}


def test_an_invitations_tip_stays_within_one_write_unit_through_its_three_commits() -> None:
    # GIVEN a host who answers too, with a Cognito-sized subject (36 characters), and a sealed name
    from domain.invitation import GUESTS, HOSTS
    from horizon.authorization import Principal
    from horizon.command_handler import CommandContext

    host = Principal.client(str(uuid.uuid4()), [HOSTS, GUESTS])
    with moto_container() as (container, _):
        invite = uuid.uuid4()
        # WHEN the invitation is created, accepted and confirmed by the saga
        handle = container.command_handler.handle
        handle(CreateInvite(id=invite, name="Athena Parthenos"), CommandContext(principal=host))
        handle(AcceptInvite(id=invite), CommandContext(principal=host))
        handle(ConfirmInvite(id=invite), as_saga())
        # THEN its tip, holding all three events packed and the snapshot, is still under 1 KB: each of the three
        # commits cost one write unit (unpacked, the third tip was 1,312 bytes: two units)
        key = {"pk": {"S": f"Invitation#{invite}"}, "sk": {"N": "0"}}
        tip = container.dynamodb.get_item(TableName=container.settings.events_table, Key=key)["Item"]
        assert int(tip["version"]["N"]) == 3
        assert item_bytes(dict(tip)) <= 1024
