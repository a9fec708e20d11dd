"""Who may send which command: every role against every command, enforced by the command handler itself."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.guest_list import GuestListProjector, InvitationProjector
from domain.invitation import GUESTS, HOSTS, AcceptInvite, ConfirmInvite, CreateInvite, DeclineInvite, DenyInvite
from domain.response_saga import ResponseSaga
from horizon.authorization import INTERNAL, Forbidden, Principal, public
from horizon.command_handler import CommandContext, CommandHandler
from horizon.commands import Command
from horizon.consumers import ProjectorRuntime, SagaRuntime
from horizon.memory import MemoryReadStore
from horizon.registry import Registry
from tests.principals import as_host, as_saga

from .fakes import RecordingEventStore

ROLES: dict[str, frozenset[str]] = {
    "a host": frozenset({HOSTS}),
    "a guest": frozenset({GUESTS}),
    "a host who is also a guest": frozenset({HOSTS, GUESTS}),
    "a client without roles": frozenset(),
    "a client with an unknown role": frozenset({"admins"}),
}
ALLOWED: dict[type[Command], set[str]] = {
    # A guest's role alone admits nobody to an invitation: only its owner (tests/unit/test_ownership.py).
    CreateInvite: {"a host", "a host who is also a guest"},
    AcceptInvite: {"a host", "a host who is also a guest"},
    DeclineInvite: {"a host", "a host who is also a guest"},
    ConfirmInvite: set(),
    DenyInvite: set(),
}


def accepted_invite(handler: CommandHandler) -> UUID:
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Athena"), as_host())
    handler.handle(AcceptInvite(id=invite_id), as_host())
    return invite_id


def command_for(handler: CommandHandler, command_type: type[Command]) -> Command:
    """A command of this type that its aggregate would accept, so only authorization can refuse it."""
    if command_type is CreateInvite:
        return CreateInvite(id=uuid4(), name="Hades")
    if command_type in (ConfirmInvite, DenyInvite):
        return command_type(id=accepted_invite(handler))
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Zeus"), as_host())
    return command_type(id=invite_id)


@pytest.mark.parametrize("command_type", list(ALLOWED))
@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_may_send_exactly_the_commands_whose_audience_names_it(
    handler: CommandHandler, events: RecordingEventStore, role: str, command_type: type[Command]
) -> None:
    command = command_for(handler, command_type)
    context = CommandContext(principal=Principal.client("someone", ROLES[role]))
    before = len(events.commits)

    if role in ALLOWED[command_type]:
        assert handler.handle(command, context).events
    else:
        with pytest.raises(Forbidden, match=command_type.command_type):
            handler.handle(command, context)
        assert len(events.commits) == before


@pytest.mark.parametrize("command_type", [ConfirmInvite, DenyInvite])
def test_the_saga_decisions_are_internal_to_the_response_saga(command_type: type[Command]) -> None:
    assert command_type.audience.internal
    assert command_type.audience.sagas == {"ResponseSaga"}


@pytest.mark.parametrize("command_type", [ConfirmInvite, DenyInvite])
def test_another_saga_may_not_send_the_response_sagas_decisions(
    handler: CommandHandler, events: RecordingEventStore, command_type: type[Command]
) -> None:
    command = command_type(id=accepted_invite(handler))
    before = len(events.commits)

    with pytest.raises(Forbidden, match="ResponseSaga"):
        handler.handle(command, as_saga("SomeOtherSaga"))

    assert len(events.commits) == before


def test_a_saga_may_send_public_commands_as_itself(handler: CommandHandler) -> None:
    invite_id = uuid4()

    (event,) = handler.handle(CreateInvite(id=invite_id, name="Iris"), as_saga("Welcome")).events

    assert event.metadata.actor is not None
    assert event.metadata.actor["saga"] == "Welcome"


@pytest.mark.parametrize("command_type", [ConfirmInvite, DenyInvite])
def test_a_saga_principal_may_send_internal_commands(handler: CommandHandler, command_type: type[Command]) -> None:
    invite_id = accepted_invite(handler)

    result = handler.handle(command_type(id=invite_id), as_saga())

    assert [event.version for event in result.events] == [3]


def test_a_command_that_declares_no_audience_is_internal() -> None:
    class Undeclared(Command):
        pass

    assert Undeclared.audience is INTERNAL
    assert not Principal.client("root", {HOSTS, GUESTS, "admins"}).may_send(Undeclared.audience)


def test_a_public_audience_must_name_a_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        public()


def test_each_event_records_the_client_who_sent_its_command(handler: CommandHandler) -> None:
    invite_id = uuid4()
    context = CommandContext(principal=Principal.client("host-42", [HOSTS, GUESTS]), correlation_id="req-1")

    (event,) = handler.handle(CreateInvite(id=invite_id, name="Athena"), context).events

    assert event.metadata.actor == {"subject": "host-42", "roles": [GUESTS, HOSTS]}
    assert event.metadata.correlation_id == "req-1"


def test_the_sagas_decision_records_the_saga_and_the_event_that_caused_it(
    registry: Registry, events: RecordingEventStore, handler: CommandHandler
) -> None:
    reads = MemoryReadStore()
    saga = SagaRuntime(ResponseSaga(2), registry, reads, events, handler)
    projectors = [ProjectorRuntime(p, registry, reads, events) for p in (InvitationProjector(), GuestListProjector(2))]
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Athena"), as_host())
    (accepted,) = handler.handle(AcceptInvite(id=invite_id), as_host()).events

    for runtime in [*projectors, saga]:
        runtime.process([accepted])

    confirmed = events.load("Invitation", invite_id)[-1]
    assert confirmed.type == "InviteConfirmed"
    assert confirmed.metadata.actor == {"saga": "ResponseSaga", "cause": str(accepted.event_id)}
    assert confirmed.metadata.causation_id == str(accepted.event_id)
