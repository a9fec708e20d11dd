"""The response saga: confirm accepted guests while there is room, deny the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel

from domain.invitation import ConfirmInvite, DenyInvite, InviteAccepted
from horizon.commands import Command
from horizon.events import Event, EventData
from horizon.projection import Saga


class Seats(BaseModel):
    """How many guests the saga has confirmed so far."""

    confirmed: int = 0


class ResponseSaga(Saga[Seats]):
    """On InviteAccepted: ConfirmInvite while fewer than `guest_limit` are confirmed, else DenyInvite."""

    name: ClassVar[str] = "ResponseSaga"
    model = Seats

    def __init__(self, guest_limit: int) -> None:
        self.guest_limit = guest_limit

    def state_key(self, event: Event) -> str | None:
        """One seat count for the whole list; only acceptances concern it."""
        return "seats" if event.type == InviteAccepted.event_type else None

    def react(self, state: Seats | None, event: Event, data: EventData) -> tuple[Seats | None, Sequence[Command]]:
        """Take a seat if one is free."""
        seats = state or Seats()
        if seats.confirmed < self.guest_limit:
            return Seats(confirmed=seats.confirmed + 1), [ConfirmInvite(id=event.aggregate_id)]
        return seats, [DenyInvite(id=event.aggregate_id)]
