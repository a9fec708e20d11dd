"""The Invitation rules, driven through the CommandHandler over a memory event store; and command validation."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from domain.invitation import AcceptInvite, ConfirmInvite, CreateInvite, DeclineInvite, DenyInvite
from horizon.command_handler import CommandHandler
from horizon.commands import Command
from horizon.errors import AggregateNotFound, DomainError
from tests.principals import as_host, as_saga

from .fakes import RecordingEventStore


def create(handler: CommandHandler, name: str = "Athena", age: int | None = None) -> UUID:
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name=name, age=age), as_host())
    return invite_id


def history(events: RecordingEventStore, invite_id: UUID) -> list[tuple[str, int]]:
    return [(event.type, event.version) for event in events.load("Invitation", invite_id)]


def test_creating_an_invite_records_invite_created(handler: CommandHandler, events: RecordingEventStore) -> None:
    invite_id = uuid4()

    result = handler.handle(CreateInvite(id=invite_id, name="Athena", age=42), as_host())

    assert result.version == 1
    assert [event.data for event in result.events] == [{"name": "Athena", "age": 42, "email": None}]
    assert history(events, invite_id) == [("InviteCreated", 1)]


def test_creating_the_same_invite_twice_is_rejected(handler: CommandHandler, events: RecordingEventStore) -> None:
    invite_id = create(handler)

    with pytest.raises(DomainError, match="already exists") as caught:
        handler.handle(CreateInvite(id=invite_id, name="Impostor"), as_host())

    assert caught.value.aggregate_id == invite_id
    assert history(events, invite_id) == [("InviteCreated", 1)]


@pytest.mark.parametrize("command_type", [AcceptInvite, DeclineInvite, ConfirmInvite, DenyInvite])
def test_a_command_for_a_missing_invite_raises_aggregate_not_found(
    handler: CommandHandler, events: RecordingEventStore, command_type: type[Command]
) -> None:
    missing = uuid4()

    with pytest.raises(AggregateNotFound) as caught:
        handler.handle(command_type(id=missing), as_saga())

    assert (caught.value.aggregate_type, caught.value.aggregate_id) == ("Invitation", missing)
    assert caught.value.operation == command_type.command_type
    assert events.load("Invitation", missing) == []


def test_accepting_after_declining_is_rejected(handler: CommandHandler, events: RecordingEventStore) -> None:
    invite_id = create(handler, "Zeus")
    handler.handle(DeclineInvite(id=invite_id), as_host())

    with pytest.raises(DomainError, match="already declined"):
        handler.handle(AcceptInvite(id=invite_id), as_host())

    assert history(events, invite_id) == [("InviteCreated", 1), ("InviteDeclined", 2)]


def test_declining_after_accepting_is_rejected(handler: CommandHandler, events: RecordingEventStore) -> None:
    invite_id = create(handler)
    handler.handle(AcceptInvite(id=invite_id), as_host())

    with pytest.raises(DomainError, match="already accepted"):
        handler.handle(DeclineInvite(id=invite_id), as_host())

    assert history(events, invite_id) == [("InviteCreated", 1), ("InviteAccepted", 2)]


@pytest.mark.parametrize(
    ("command_type", "event_type"), [(AcceptInvite, "InviteAccepted"), (DeclineInvite, "InviteDeclined")]
)
def test_answering_twice_is_a_no_op(
    handler: CommandHandler, events: RecordingEventStore, command_type: type[Command], event_type: str
) -> None:
    # GIVEN an invite already answered
    invite_id = create(handler)
    handler.handle(command_type(id=invite_id), as_host())
    appends = len(events.commits)
    # WHEN the same answer comes again (a new command, not a retry)
    result = handler.handle(command_type(id=invite_id), as_host())
    # THEN nothing is appended and the version stays
    assert result.events == ()
    assert result.version == 2
    assert not result.duplicate
    assert len(events.commits) == appends
    assert history(events, invite_id) == [("InviteCreated", 1), (event_type, 2)]


def test_accepting_a_confirmed_invite_is_a_no_op(handler: CommandHandler) -> None:
    invite_id = create(handler)
    handler.handle(AcceptInvite(id=invite_id), as_host())
    handler.handle(ConfirmInvite(id=invite_id), as_saga())

    assert handler.handle(AcceptInvite(id=invite_id), as_host()).events == ()


@pytest.mark.parametrize(
    ("command_type", "event_type"), [(ConfirmInvite, "InviteConfirmed"), (DenyInvite, "InviteDenied")]
)
def test_an_accepted_invite_can_be_settled(
    handler: CommandHandler, events: RecordingEventStore, command_type: type[Command], event_type: str
) -> None:
    invite_id = create(handler)
    handler.handle(AcceptInvite(id=invite_id), as_host())

    result = handler.handle(command_type(id=invite_id), as_saga())

    assert result.version == 3
    assert history(events, invite_id)[-1] == (event_type, 3)


@pytest.mark.parametrize("first", [ConfirmInvite, DenyInvite])
@pytest.mark.parametrize("second", [ConfirmInvite, DenyInvite])
def test_an_invite_is_settled_only_once(
    handler: CommandHandler, events: RecordingEventStore, first: type[Command], second: type[Command]
) -> None:
    invite_id = create(handler)
    handler.handle(AcceptInvite(id=invite_id), as_host())
    handler.handle(first(id=invite_id), as_saga())

    with pytest.raises(DomainError, match=r"already (confirmed|denied)"):
        handler.handle(second(id=invite_id), as_saga())

    assert len(history(events, invite_id)) == 3


@pytest.mark.parametrize("settle", [ConfirmInvite, DenyInvite])
@pytest.mark.parametrize(("answer", "status"), [(None, "invited"), (DeclineInvite, "declined")])
def test_only_an_accepted_invite_can_be_settled(
    handler: CommandHandler,
    events: RecordingEventStore,
    settle: type[Command],
    answer: type[Command] | None,
    status: str,
) -> None:
    invite_id = create(handler)
    if answer is not None:
        handler.handle(answer(id=invite_id), as_host())
    before = history(events, invite_id)

    with pytest.raises(DomainError, match=f"the invite is {status}, not accepted"):
        handler.handle(settle(id=invite_id), as_saga())

    assert history(events, invite_id) == before


# Validation: commands arrive as JSON, so they are validated from dicts with string ids.

VALID: dict[str, Any] = {"id": "0b8f7b76-53f4-4bb5-a9b0-04b0f8e6f0a1", "name": "Athena", "age": 42}


def test_a_valid_create_invite_parses_its_string_id() -> None:
    command = CreateInvite.model_validate(VALID)

    assert command.id == UUID(VALID["id"])
    assert (command.name, command.age) == ("Athena", 42)


@pytest.mark.parametrize("payload", [{"name": "x" * 200}, {"age": 0}, {"age": 150}, {"age": None}])
def test_boundary_values_of_create_invite_are_accepted(payload: dict[str, Any]) -> None:
    CreateInvite.model_validate({**VALID, **payload})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"plus_one": True}, "plus_one"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"age": -1}, "age"),
        ({"age": 151}, "age"),
        ({"age": "42"}, "age"),
        ({"age": 42.5}, "age"),
        ({"id": "not-a-uuid"}, "id"),
        ({"name": None}, "name"),
    ],
    ids=[
        "unknown field",
        "empty name",
        "201 chars",
        "age -1",
        "age 151",
        "age as string",
        "age float",
        "bad id",
        "no name",
    ],
)
def test_an_invalid_create_invite_is_rejected(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CreateInvite.model_validate({**VALID, **payload})

    assert {error["loc"][0] for error in caught.value.errors()} == {field}


def test_a_command_without_an_id_is_rejected() -> None:
    with pytest.raises(ValidationError):
        AcceptInvite.model_validate({})


def test_commands_are_immutable() -> None:
    command = CreateInvite.model_validate(VALID)

    with pytest.raises(ValidationError):
        command.name = "Hades"
