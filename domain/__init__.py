"""The guest-list domain: pure Python and pydantic, no AWS."""

from __future__ import annotations

from typing import Any

from domain.guest_list import GuestListProjector, InvitationProjector
from domain.invitation import COMMANDS, EVENTS, UPCASTERS, CreateInvite, Invitation
from domain.response_saga import ResponseSaga
from horizon.projection import Projector, Saga
from horizon.registry import Registry


def build_registry() -> Registry:
    """Every command and event of the guest list, bound to the Invitation aggregate."""
    return Registry().register(
        Invitation, creates=[CreateInvite], commands=COMMANDS, events=EVENTS, upcasters=UPCASTERS
    )


def build_projectors(guest_limit: int) -> list[Projector[Any]]:
    """The read models the query API serves."""
    return [InvitationProjector(), GuestListProjector(guest_limit)]


def build_sagas(guest_limit: int) -> list[Saga[Any]]:
    """The process managers that answer acceptances."""
    return [ResponseSaga(guest_limit)]
