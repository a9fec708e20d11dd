"""The Invitation aggregate: its commands, its events and the rules between them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from horizon.aggregate import Aggregate
from horizon.authorization import Principal, internal, public
from horizon.commands import Command
from horizon.events import EventData
from horizon.privacy.marking import REDACTED, Personal
from horizon.upcasting import Upcaster, add_field

Status = Literal["invited", "accepted", "declined", "confirmed", "denied"]

NO_REASON = "not given"
"""The reason of a decline that gave none, including every decline stored before reasons were recorded."""
HOSTS = "hosts"
"""Hosts run the list: they invite, answer for guests, and read everything (a Cognito group on AWS)."""
GUESTS = "guests"
"""Guests answer their own invitation, and read it: the one whose e-mail is their token's verified e-mail."""
ANSWERERS = public(HOSTS, owners=[GUESTS])
"""Hosts answer for anyone; a guest only for the invitation they own (`Invitation.owned_by`)."""
DECIDED_BY_THE_SAGA = internal("ResponseSaga")
"""Confirming and denying are the ResponseSaga's decisions: no client, and no other saga, may send them."""


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""A plausible address: something, one @, a domain with a dot; delivery is what proves it."""


EMAIL_SCOPE = "invitation-email"
"""No two live invitations share an e-mail: InviteCreated claims it, InviteeForgotten releases it."""


def normalise_email(value: str) -> str:
    """The form e-mails are compared and stored in: without surrounding spaces, lower case."""
    return value.strip().lower()


class CreateInvite(Command):
    """Invite a guest by name, optionally with their age and e-mail (unique across the list)."""

    audience = public(HOSTS)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    age: Annotated[int, Field(ge=0, le=150)] | None = None
    email: Annotated[str, Field(max_length=254, pattern=EMAIL)] | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> object:
        return normalise_email(value) if isinstance(value, str) else value


class AcceptInvite(Command):
    """The guest says yes."""

    audience = ANSWERERS


class DeclineInvite(Command):
    """The guest says no, optionally saying why."""

    reason: Annotated[str, Field(min_length=1, max_length=500)] = NO_REASON

    audience = ANSWERERS


class ConfirmInvite(Command):
    """The ResponseSaga confirms an accepted invite (there is room); internal: no client may send it."""

    audience = DECIDED_BY_THE_SAGA


class DenyInvite(Command):
    """The ResponseSaga denies an accepted invite (the list is full); internal: no client may send it."""

    audience = DECIDED_BY_THE_SAGA


class ForgetInvitee(Command):
    """The host erases the guest's personal data (name, age, e-mail) for good; the invitation itself stays."""

    audience = public(HOSTS)


class InviteCreated(EventData):
    """Version 2 adds the optional e-mail; a version-1 creation is upcast with none. Name, age, e-mail are personal."""

    schema_version: ClassVar[int] = 2
    claims: ClassVar[Mapping[str, str]] = {EMAIL_SCOPE: "email"}

    name: Annotated[str, Personal(redacted=REDACTED)]
    age: Annotated[int | None, Personal(redacted=None)] = None
    email: Annotated[str | None, Personal(redacted=None)] = None


class InviteAccepted(EventData):
    pass


class InviteDeclined(EventData):
    """Version 2 records why; a version-1 decline is upcast with the reason "not given"."""

    schema_version: ClassVar[int] = 2

    reason: str


class InviteConfirmed(EventData):
    pass


class InviteDenied(EventData):
    pass


class InviteeForgotten(EventData):
    """The guest's personal data was erased (its data key deleted); carries no personal data itself."""

    forgets_subject: ClassVar[bool] = True
    releases: ClassVar[tuple[str, ...]] = (EMAIL_SCOPE,)


class InvitationState(BaseModel):
    """What an invitation remembers between commands."""

    name: str = ""
    age: int | None = None
    email: str | None = None
    forgotten: bool = False
    status: Status = "invited"
    decline_reason: str | None = None


class Invitation(Aggregate):
    """One guest's invitation: invited → accepted | declined; accepted → confirmed | denied."""

    state_model = InvitationState
    state_version: ClassVar[int] = 2  # 2: the e-mail and the forgotten flag
    state: InvitationState

    def owned_by(self, principal: Principal) -> bool:
        """The guest whose verified e-mail is this invitation's; nobody once it is forgotten (or has no e-mail)."""
        email = self.state.email
        if self.state.forgotten or not email or not principal.email:
            return False
        return normalise_email(principal.email) == email

    def handle(self, command: Command) -> Sequence[EventData]:
        """Decide what a command means for this invitation."""
        match command:
            case CreateInvite(name=name, age=age, email=email):
                return [InviteCreated(name=name, age=age, email=email)]
            case ForgetInvitee():
                return [] if self.state.forgotten else [InviteeForgotten()]
            case AcceptInvite():
                if self.state.status == "declined":
                    raise self.reject(f"{self.state.name} already declined")
                return [] if self.state.status != "invited" else [InviteAccepted()]
            case DeclineInvite(reason=reason):
                if self.state.status in ("accepted", "confirmed", "denied"):
                    raise self.reject(f"{self.state.name} already accepted")
                return [] if self.state.status == "declined" else [InviteDeclined(reason=reason)]
            case ConfirmInvite() | DenyInvite():
                return [self._settle(command)]
        raise self.reject(f"{command.command_type} is not an Invitation command")

    def _settle(self, command: Command) -> EventData:
        verb = "confirm" if isinstance(command, ConfirmInvite) else "deny"
        name, status = self.state.name, self.state.status
        if status in ("confirmed", "denied"):
            raise self.reject(f"cannot {verb} {name}: already {status}")
        if status != "accepted":
            raise self.reject(f"cannot {verb} {name}: the invite is {status}, not accepted")
        return InviteConfirmed() if verb == "confirm" else InviteDenied()

    def apply(self, event: EventData) -> None:
        """Evolve the invitation by one event."""
        match event:
            case InviteCreated(name=name, age=age, email=email):
                self.state = InvitationState(name=name, age=age, email=email)
            case InviteeForgotten():
                self.state.name, self.state.age, self.state.email = REDACTED, None, None
                self.state.forgotten = True
            case InviteAccepted():
                self.state.status = "accepted"
            case InviteDeclined(reason=reason):
                self.state.status, self.state.decline_reason = "declined", reason
            case InviteConfirmed():
                self.state.status = "confirmed"
            case InviteDenied():
                self.state.status = "denied"


COMMANDS: tuple[type[Command], ...] = (AcceptInvite, DeclineInvite, ConfirmInvite, DenyInvite, ForgetInvitee)
EVENTS: tuple[type[EventData], ...] = (
    InviteCreated,
    InviteAccepted,
    InviteDeclined,
    InviteConfirmed,
    InviteDenied,
    InviteeForgotten,
)
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("InviteCreated", 1): add_field("email", None),
    ("InviteDeclined", 1): add_field("reason", NO_REASON),
}
"""Every way a stored guest-list event moves to today's version (docs/evolution.md walks through this one)."""
