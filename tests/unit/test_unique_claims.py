"""Unique values as a framework feature: claims and releases declared on events, kept by a claiming store."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain import build_registry
from domain.invitation import EMAIL_SCOPE, CreateInvite, ForgetInvitee
from horizon.command_handler import CommandHandler
from horizon.memory.claims import MemoryClaimingEventStore
from horizon.memory.datakeys import MemoryDataKeys
from horizon.privacy.cipher import FieldCipher
from horizon.privacy.sealing import Sealer, SealingEventStore
from horizon.uniqueness import Claimer, ValueTaken
from tests.principals import as_host

SECRET = b"test secret"
EMAIL = "hades@underworld.example"


@pytest.fixture
def claims() -> MemoryClaimingEventStore:
    return MemoryClaimingEventStore()


@pytest.fixture
def handler(claims: MemoryClaimingEventStore) -> CommandHandler:
    registry = build_registry()
    store = SealingEventStore(claims, Sealer(registry, FieldCipher(MemoryDataKeys())), Claimer(registry, SECRET))
    return CommandHandler(registry, store)


def create(handler: CommandHandler, email: str | None = EMAIL, name: str = "Hades") -> UUID:
    invite = uuid4()
    handler.handle(CreateInvite(id=invite, name=name, email=email), as_host())
    return invite


def test_a_second_invitation_with_the_same_e_mail_is_refused_without_echoing_it(handler: CommandHandler) -> None:
    first = create(handler)
    with pytest.raises(ValueTaken) as refused:
        create(handler, email="  HADES@Underworld.example ", name="Someone else")
    assert "e-mail is taken" in str(refused.value)
    assert EMAIL not in str(refused.value)
    assert str(first) not in str(refused.value)


def test_the_claim_is_a_keyed_hash_never_the_value(claims: MemoryClaimingEventStore, handler: CommandHandler) -> None:
    invite = create(handler)
    [(scope, digest)] = claims.claims
    assert scope == EMAIL_SCOPE
    assert EMAIL not in digest
    assert digest == Claimer(build_registry(), SECRET).digest(EMAIL_SCOPE, EMAIL)
    assert digest != Claimer(build_registry(), b"another secret").digest(EMAIL_SCOPE, EMAIL)
    assert claims.claims[(scope, digest)] == ("Invitation", invite)


def test_invitations_without_an_e_mail_claim_nothing(claims: MemoryClaimingEventStore, handler: CommandHandler) -> None:
    create(handler, email=None)
    create(handler, email=None)
    assert claims.claims == {}


def test_forgetting_the_invitee_releases_the_e_mail_for_a_new_invitation(
    claims: MemoryClaimingEventStore, handler: CommandHandler
) -> None:
    invite = create(handler)
    handler.handle(ForgetInvitee(id=invite), as_host())
    assert claims.claims == {}
    again = create(handler, name="Hades again")
    assert list(claims.claims.values()) == [("Invitation", again)]


def test_a_refused_creation_stores_nothing(claims: MemoryClaimingEventStore, handler: CommandHandler) -> None:
    create(handler)
    loser = uuid4()
    with pytest.raises(ValueTaken):
        handler.handle(CreateInvite(id=loser, name="Persephone", email=EMAIL), as_host())
    assert claims.load("Invitation", loser) == []


def test_a_retried_creation_with_an_e_mail_answers_its_first_result(
    claims: MemoryClaimingEventStore, handler: CommandHandler
) -> None:
    # GIVEN a creation that went through, claiming its e-mail
    invite = uuid4()
    context = as_host(command_id="create-hades")
    first = handler.handle(CreateInvite(id=invite, name="Hades", email=EMAIL), context)
    # WHEN the client retries it (the retry presumes the invitation new, and finds its own e-mail claimed)
    again = handler.handle(CreateInvite(id=invite, name="Hades", email=EMAIL), context)
    # THEN the answer is the first one, from the store's head, and nothing more was stored
    assert again.duplicate
    assert again.version == first.version == 1
    assert len(claims.load("Invitation", invite)) == 1
