"""Read models of the guest list: one view per invitation and the counters of the whole list."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel

from domain.invitation import (
    InviteAccepted,
    InviteConfirmed,
    InviteCreated,
    InviteDeclined,
    InviteDenied,
    InviteeForgotten,
    Status,
)
from horizon.events import Event, EventData
from horizon.privacy.marking import REDACTED
from horizon.projection import Projector

GUEST_LIST_KEY = "guestlist"

_STATUS_BY_EVENT: dict[type[EventData], Status] = {
    InviteAccepted: "accepted",
    InviteDeclined: "declined",
    InviteConfirmed: "confirmed",
    InviteDenied: "denied",
}


class InvitationView(BaseModel):
    """One invitation as a guest or host sees it."""

    id: UUID
    name: str
    age: int | None = None
    status: Status
    version: int


class GuestList(BaseModel):
    """The counters of the whole list; accepted and declined each count as a guest who answered."""

    num_guests: int = 0
    num_accepted: int = 0
    num_declined: int = 0
    num_confirmed: int = 0
    num_denied: int = 0
    guest_limit: int = 0


class InvitationProjector(Projector[InvitationView]):
    """Keeps an InvitationView per invitation, at the invitation's version."""

    name: ClassVar[str] = "Invitation"
    model = InvitationView
    per_aggregate: ClassVar[bool] = True

    def document_key(self, event: Event) -> str | None:
        """Every invitation event changes that invitation's view."""
        return str(event.aggregate_id) if event.aggregate_type == "Invitation" else None

    def project(self, current: InvitationView | None, event: Event, data: EventData) -> InvitationView | None:
        """Set the status the event implies and move the view to the event's version."""
        if isinstance(data, InviteCreated):
            return InvitationView(
                id=event.aggregate_id, name=data.name, age=data.age, status="invited", version=event.version
            )
        if current is None:
            raise LookupError(f"project {event.type} v{event.version}: no view for invitation {event.aggregate_id}")
        if isinstance(data, InviteeForgotten):
            # The view's personal fields as a replay of the redacted history would project them.
            return current.model_copy(update={"name": REDACTED, "age": None, "version": event.version})
        status = _STATUS_BY_EVENT.get(type(data), current.status)
        return current.model_copy(update={"status": status, "version": event.version})


class GuestListProjector(Projector[GuestList]):
    """Counts answers on the guest list."""

    name: ClassVar[str] = "GuestList"
    model = GuestList
    reacts_to: ClassVar[frozenset[str] | None] = frozenset(kind.event_type for kind in _STATUS_BY_EVENT)

    def __init__(self, guest_limit: int) -> None:
        self.guest_limit = guest_limit

    def document_key(self, event: Event) -> str | None:
        """Every answer and decision changes the single guest-list document."""
        return GUEST_LIST_KEY if self.reacts_to and event.type in self.reacts_to else None

    def project(self, current: GuestList | None, event: Event, data: EventData) -> GuestList | None:
        """Count one answer or one decision."""
        counts = current or GuestList()
        update = {"guest_limit": self.guest_limit}
        if isinstance(data, InviteAccepted | InviteDeclined):
            update["num_guests"] = counts.num_guests + 1
        field = f"num_{_STATUS_BY_EVENT[type(data)]}"
        update[field] = getattr(counts, field) + 1
        return counts.model_copy(update=update)
