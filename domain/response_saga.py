"""The response saga: confirm accepted guests while there is room, deny the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel

from domain.invitation import ConfirmInvite, DenyInvite, InviteAccepted
from horizon.commands import Command
from horizon.events import Event, EventData
from horizon.projection import Saga


class Seats(BaseModel):
    """The invitations holding a seat: the saga confirmed them. Never more than the guest limit.

    Holders rather than a count, so that giving a seat back (when a confirmation is rejected) is idempotent.
    """

    holders: list[UUID] = []


class ResponseSaga(Saga[Seats]):
    """On InviteAccepted: ConfirmInvite while fewer than `guest_limit` hold a seat, else DenyInvite."""

    name: ClassVar[str] = "ResponseSaga"
    model = Seats

    def __init__(self, guest_limit: int) -> None:
        self.guest_limit = guest_limit

    def state_key(self, event: Event) -> str | None:
        """One seat list for the whole guest list; only acceptances concern it."""
        return "seats" if event.type == InviteAccepted.event_type else None

    def react(self, state: Seats | None, event: Event, data: EventData) -> tuple[Seats | None, Sequence[Command]]:
        """Take a seat if one is free."""
        seats = state or Seats()
        if event.aggregate_id in seats.holders:
            return seats, []
        if len(seats.holders) < self.guest_limit:
            return Seats(holders=[*seats.holders, event.aggregate_id]), [ConfirmInvite(id=event.aggregate_id)]
        return seats, [DenyInvite(id=event.aggregate_id)]

    def rejected(self, state: Seats | None, command: Command) -> Seats | None:
        """A confirmation the invitation refused gives its seat back, so no seat is ever lost."""
        if state is None or not isinstance(command, ConfirmInvite) or command.id not in state.holders:
            return state
        return Seats(holders=[holder for holder in state.holders if holder != command.id])
