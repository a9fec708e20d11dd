"""Owner roles: a guest answers and reads the invitation whose e-mail is their token's verified e-mail, no other."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.invitation import GUESTS, HOSTS, AcceptInvite, CreateInvite, DeclineInvite, ForgetInvitee
from horizon.aggregate_cache import AggregateCache
from horizon.authorization import Admission, Forbidden, Principal, admit, public
from horizon.command_handler import CommandContext, CommandHandler
from horizon.commands import Command
from horizon.http.principal import principal_of
from horizon.registry import Registry
from tests.principals import as_host, as_saga

from .fakes import RecordingEventStore

ARES = "ares@olympus.example"
OWNER_READS = public(HOSTS, owners=[GUESTS])


def guest(email: str | None, subject: str = "guest-7") -> CommandContext:
    return CommandContext(principal=Principal.client(subject, [GUESTS], email=email))


def invite(handler: CommandHandler, email: str | None = ARES) -> UUID:
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Ares", age=33, email=email), as_host())
    return invite_id


@pytest.mark.parametrize("command_type", [AcceptInvite, DeclineInvite])
def test_the_guest_whose_verified_email_it_has_answers_their_own_invitation(
    handler: CommandHandler, command_type: type[Command]
) -> None:
    invite_id = invite(handler)

    (event,) = handler.handle(command_type(id=invite_id), guest(ARES)).events

    assert event.metadata.actor == {"subject": "guest-7", "roles": [GUESTS]}


def test_the_token_email_is_compared_as_the_domain_normalises_emails(handler: CommandHandler) -> None:
    invite_id = invite(handler)

    assert handler.handle(AcceptInvite(id=invite_id), guest("  Ares@Olympus.EXAMPLE ")).events


@pytest.mark.parametrize("email", ["hades@underworld.example", None], ids=["another e-mail", "no verified e-mail"])
@pytest.mark.parametrize("command_type", [AcceptInvite, DeclineInvite])
def test_any_other_guest_is_forbidden_and_nothing_is_written(
    handler: CommandHandler, events: RecordingEventStore, command_type: type[Command], email: str | None
) -> None:
    invite_id = invite(handler)
    before = len(events.commits)

    with pytest.raises(Forbidden, match=f"{command_type.command_type} on {invite_id}") as refused:
        handler.handle(command_type(id=invite_id), guest(email))

    assert len(events.commits) == before
    # The refusal names the asker and the rule, never the owner's data.
    assert "Ares" not in str(refused.value)
    assert "olympus" not in str(refused.value)


def test_an_invitation_without_an_email_is_owned_by_nobody(handler: CommandHandler) -> None:
    invite_id = invite(handler, email=None)

    with pytest.raises(Forbidden):
        handler.handle(AcceptInvite(id=invite_id), guest(ARES))


def test_a_guest_asking_for_a_missing_invitation_is_forbidden_rather_than_told_it_is_missing(
    handler: CommandHandler,
) -> None:
    with pytest.raises(Forbidden):
        handler.handle(AcceptInvite(id=uuid4()), guest(ARES))


def test_after_forgetting_the_former_owner_owns_nothing(handler: CommandHandler) -> None:
    invite_id = invite(handler)
    handler.handle(ForgetInvitee(id=invite_id), as_host())

    with pytest.raises(Forbidden):
        handler.handle(AcceptInvite(id=invite_id), guest(ARES))


def test_a_forget_through_another_container_refuses_the_owner_of_a_cached_invitation(
    registry: Registry, events: RecordingEventStore
) -> None:
    warm = CommandHandler(registry, events, sleep=lambda _: None, cache=AggregateCache(ttl_seconds=60))
    other = CommandHandler(registry, events, sleep=lambda _: None)
    invite_id = invite(warm)
    other.handle(ForgetInvitee(id=invite_id), as_host())

    with pytest.raises(Forbidden):
        warm.handle(AcceptInvite(id=invite_id), guest(ARES))

    assert [e.type for e in events.load("Invitation", invite_id)] == ["InviteCreated", "InviteeForgotten"]


def test_hosts_and_sagas_need_no_ownership(handler: CommandHandler) -> None:
    invite_id = invite(handler)

    assert handler.handle(AcceptInvite(id=invite_id), as_saga("Concierge")).events
    assert admit(Principal.client("h", [HOSTS]), "read", OWNER_READS) is Admission.GRANTED


def test_an_owner_role_admits_only_on_condition_and_other_roles_not_at_all() -> None:
    assert admit(Principal.client("g", [GUESTS]), "read", OWNER_READS) is Admission.IF_OWNER
    with pytest.raises(Forbidden, match="needs one of the roles"):
        admit(Principal.client("x", ["admins"]), "read", OWNER_READS)
    assert not OWNER_READS.internal


def test_a_read_by_the_owner_passes_and_by_anyone_else_is_forbidden(
    handler: CommandHandler, events: RecordingEventStore
) -> None:
    invite_id = invite(handler)
    loads = events.load_calls

    handler.authorize_read(Principal.client("h", [HOSTS]), "read", OWNER_READS, "Invitation", invite_id)
    assert events.load_calls == loads  # a host's roles suffice: no load
    handler.authorize_read(guest(ARES).principal, "read", OWNER_READS, "Invitation", invite_id)
    with pytest.raises(Forbidden):
        handler.authorize_read(guest("zeus@olympus.example").principal, "read", OWNER_READS, "Invitation", invite_id)

    handler.handle(ForgetInvitee(id=invite_id), as_host())
    with pytest.raises(Forbidden):
        handler.authorize_read(guest(ARES).principal, "read", OWNER_READS, "Invitation", invite_id)


@pytest.mark.parametrize(
    ("claims", "email"),
    [
        ({"email": ARES, "email_verified": "true"}, ARES),
        ({"email": ARES, "email_verified": True}, ARES),
        ({"email": ARES, "email_verified": "false"}, None),
        ({"email": ARES}, None),
        ({"email_verified": "true"}, None),
    ],
    ids=["verified (API Gateway's string)", "verified (a JSON boolean)", "not verified", "unsaid", "no e-mail"],
)
def test_a_principal_carries_the_tokens_email_only_when_its_issuer_verified_it(
    claims: dict[str, object], email: str | None
) -> None:
    event = {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "g", **claims}}}}}

    assert principal_of(event).email == email
