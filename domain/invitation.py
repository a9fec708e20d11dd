"""The Invitation aggregate: its commands, its events and the rules between them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from horizon.aggregate import Aggregate
from horizon.commands import Command
from horizon.events import EventData

Status = Literal["invited", "accepted", "declined", "confirmed", "denied"]


class CreateInvite(Command):
    """Invite a guest by name, optionally with their age."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    age: Annotated[int, Field(ge=0, le=150)] | None = None


class AcceptInvite(Command):
    """The guest says yes."""


class DeclineInvite(Command):
    """The guest says no."""


class ConfirmInvite(Command):
    """The host confirms an accepted invite (there is room)."""


class DenyInvite(Command):
    """The host denies an accepted invite (the list is full)."""


class InviteCreated(EventData):
    name: str
    age: int | None = None


class InviteAccepted(EventData):
    pass


class InviteDeclined(EventData):
    pass


class InviteConfirmed(EventData):
    pass


class InviteDenied(EventData):
    pass


class Invitation(Aggregate):
    """One guest's invitation: invited → accepted | declined; accepted → confirmed | denied."""

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.name = ""
        self.status: Status = "invited"

    def handle(self, command: Command) -> Sequence[EventData]:
        """Decide what a command means for this invitation."""
        match command:
            case CreateInvite(name=name, age=age):
                return [InviteCreated(name=name, age=age)]
            case AcceptInvite():
                if self.status == "declined":
                    raise self.reject(f"{self.name} already declined")
                return [] if self.status != "invited" else [InviteAccepted()]
            case DeclineInvite():
                if self.status in ("accepted", "confirmed", "denied"):
                    raise self.reject(f"{self.name} already accepted")
                return [] if self.status == "declined" else [InviteDeclined()]
            case ConfirmInvite() | DenyInvite():
                return [self._settle(command)]
        raise self.reject(f"{command.command_type} is not an Invitation command")

    def _settle(self, command: Command) -> EventData:
        verb = "confirm" if isinstance(command, ConfirmInvite) else "deny"
        if self.status in ("confirmed", "denied"):
            raise self.reject(f"cannot {verb} {self.name}: already {self.status}")
        if self.status != "accepted":
            raise self.reject(f"cannot {verb} {self.name}: the invite is {self.status}, not accepted")
        return InviteConfirmed() if verb == "confirm" else InviteDenied()

    def apply(self, event: EventData) -> None:
        """Evolve the invitation by one event."""
        match event:
            case InviteCreated(name=name):
                self.name = name
            case InviteAccepted():
                self.status = "accepted"
            case InviteDeclined():
                self.status = "declined"
            case InviteConfirmed():
                self.status = "confirmed"
            case InviteDenied():
                self.status = "denied"


COMMANDS: tuple[type[Command], ...] = (AcceptInvite, DeclineInvite, ConfirmInvite, DenyInvite)
EVENTS: tuple[type[EventData], ...] = (InviteCreated, InviteAccepted, InviteDeclined, InviteConfirmed, InviteDenied)
