"""The response saga: confirm accepted guests while there is room, deny the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, model_validator

from domain.invitation import ConfirmInvite, DenyInvite, InviteAccepted
from horizon.commands import Command
from horizon.events import Event, EventData
from horizon.projection import Saga


class Seats(BaseModel):
    """The invitations holding a seat: the saga confirmed them. Never more than the guest limit.

    Holders rather than a count, so that giving a seat back (when a confirmation is rejected) is idempotent.
    """

    holders: list[UUID] = []
    earlier: int = 0
    """Seats taken before holders were recorded: state written as `{"confirmed": n}` by the counting saga."""

    @model_validator(mode="before")
    @classmethod
    def _from_a_count(cls, data: Any) -> Any:
        # A deployed stack keeps its saga state across this change: a count still holds its seats.
        if isinstance(data, dict) and "confirmed" in data:
            return {"holders": data.get("holders", []), "earlier": int(data["confirmed"])}
        return data

    @property
    def taken(self) -> int:
        """How many seats are taken."""
        return self.earlier + len(self.holders)


class ResponseSaga(Saga[Seats]):
    """On InviteAccepted: ConfirmInvite while fewer than `guest_limit` hold a seat, else DenyInvite."""

    name: ClassVar[str] = "ResponseSaga"
    model = Seats
    reacts_to: ClassVar[frozenset[str] | None] = frozenset({InviteAccepted.event_type})

    def __init__(self, guest_limit: int) -> None:
        self.guest_limit = guest_limit

    def state_key(self, event: Event) -> str | None:
        """One seat list for the whole guest list; only acceptances concern it."""
        return "seats" if self.reacts_to and event.type in self.reacts_to else None

    def react(self, state: Seats | None, event: Event, data: EventData) -> tuple[Seats | None, Sequence[Command]]:
        """Take a seat if one is free."""
        seats = state or Seats()
        if event.aggregate_id in seats.holders:
            return seats, []
        if seats.taken < self.guest_limit:
            return seats.model_copy(update={"holders": [*seats.holders, event.aggregate_id]}), [
                ConfirmInvite(id=event.aggregate_id)
            ]
        return seats, [DenyInvite(id=event.aggregate_id)]

    def rejected(self, state: Seats | None, command: Command) -> Seats | None:
        """A confirmation the invitation refused gives its seat back, so no seat is ever lost."""
        if state is None or not isinstance(command, ConfirmInvite) or command.id not in state.holders:
            return state
        return state.model_copy(update={"holders": [holder for holder in state.holders if holder != command.id]})
