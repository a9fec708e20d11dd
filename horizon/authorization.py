"""Who may send which command: principals, audiences, and the one check every entry point passes through.

A command declares its audience next to its definition (`audience = public("hosts")`, or the default
`INTERNAL`). The command handler checks the principal of every command against that audience, so HTTP on AWS,
the local stack, the saga runtime and any CLI are refused or allowed by the same line of code.

An audience may also grant roles only to the owner of the aggregate (`public("hosts", owners=["guests"])`):
a role alone cannot be judged before the aggregate is loaded, so `admit` answers IF_OWNER and the command handler
asks the loaded aggregate (`Aggregate.owned_by`) before it decides anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from horizon.errors import HorizonError

if TYPE_CHECKING:
    from horizon.aggregate import Aggregate


@dataclass(frozen=True)
class Audience:
    """The roles that may send a command; no roles at all means internal: only sagas (`sagas`, or any).

    `owners` are roles that count only for a principal the loaded aggregate says owns it.
    """

    roles: frozenset[str]
    sagas: frozenset[str] = frozenset()
    owners: frozenset[str] = frozenset()

    @property
    def internal(self) -> bool:
        """True when no client, whatever its roles, may send the command."""
        return not self.roles and not self.owners


def internal(*sagas: str) -> Audience:
    """An audience of sagas only: the named ones, or any saga when none is named. No HTTP route."""
    return Audience(frozenset(), frozenset(sagas))


INTERNAL = internal()
"""Only sagas dispatch these commands; they have no HTTP route."""


def public(*roles: str, owners: Iterable[str] = ()) -> Audience:
    """An audience of clients holding any of `roles` (e.g. the Cognito group `hosts`), or any of `owners` for
    the aggregates they own (e.g. `guests` for their own invitation)."""
    if not roles:
        raise ValueError("a public audience names at least one role; use INTERNAL for none")
    return Audience(frozenset(roles), owners=frozenset(owners))


class Admission(Enum):
    """What a principal's roles say before the aggregate is loaded."""

    GRANTED = "granted"
    """A role of the audience (or a saga): nothing more to check."""
    IF_OWNER = "if owner"
    """Only an owner role: granted if, and only if, the loaded aggregate says the principal owns it."""


@dataclass(frozen=True)
class Principal:
    """Who sends a command: an authenticated client (subject, roles) or a saga acting on an event."""

    subject: str
    roles: frozenset[str] = frozenset()
    saga: str | None = None
    cause: str | None = None
    email: str | None = None
    """The e-mail address the token's issuer verified (`email` with `email_verified` true), else None."""

    @classmethod
    def client(cls, subject: str, roles: Iterable[str], *, email: str | None = None) -> Principal:
        """A client whose token an authorizer already verified, with its verified e-mail if it has one."""
        return cls(subject=subject, roles=frozenset(roles), email=email)

    @classmethod
    def of_saga(cls, saga: str, cause: str) -> Principal:
        """A saga dispatching because of the event `cause` (an event id): may send internal commands."""
        return cls(subject=f"saga:{saga}", saga=saga, cause=cause)

    @property
    def internal(self) -> bool:
        """True for sagas, which may send internal commands."""
        return self.saga is not None

    def may_send(self, audience: Audience) -> bool:
        """Whether this principal is in the audience; a saga may send public commands and its internal ones."""
        if self.saga is not None:
            return not audience.sagas or self.saga in audience.sagas
        return bool(self.roles & audience.roles)

    def may_own(self, audience: Audience) -> bool:
        """Whether this client holds a role the audience grants to owners only."""
        return self.saga is None and bool(self.roles & audience.owners)

    def actor(self) -> dict[str, Any]:
        """What each event's metadata records as its actor: who did it, and for a saga, because of what."""
        if self.saga is not None:
            return {"saga": self.saga, "cause": self.cause}
        return {"subject": self.subject, "roles": sorted(self.roles)}


class Forbidden(HorizonError):
    """An authenticated principal outside a command's or a route's audience (answers 403)."""

    def __init__(self, principal: Principal, operation: str, audience: Audience) -> None:
        if audience.owners & principal.roles:
            # Says nothing of whom the aggregate belongs to: the refusal must not echo anyone else's data.
            needed = f"one of the roles {sorted(audience.roles)}, or to own it"
        elif not audience.internal:
            needed = f"one of the roles {sorted(audience.roles)}"
        else:
            needed = f"to be the saga {' or '.join(sorted(audience.sagas))}" if audience.sagas else "to be a saga"
        super().__init__(f"{operation}: {principal.subject} may not do this; it needs {needed}")
        self.principal = principal
        self.operation = operation


class Unauthenticated(HorizonError):
    """A request with no verified token where one is required (answers 401 with WWW-Authenticate: Bearer)."""


def admit(principal: Principal, operation: str, audience: Audience) -> Admission:
    """What the principal's roles allow before any load; Forbidden when not even ownership could admit it."""
    if principal.may_send(audience):
        return Admission.GRANTED
    if principal.may_own(audience):
        return Admission.IF_OWNER
    raise Forbidden(principal, operation, audience)


def authorize(principal: Principal, operation: str, audience: Audience) -> None:
    """Raise Forbidden unless the principal's roles alone put it in the audience (no ownership considered)."""
    if admit(principal, operation, audience) is not Admission.GRANTED:
        raise Forbidden(principal, operation, audience)


def authorize_owner(principal: Principal, operation: str, audience: Audience, aggregate: Aggregate) -> None:
    """After the load, for an IF_OWNER admission: raise Forbidden unless the aggregate says the principal owns it.

    A missing aggregate owns nobody, so a would-be owner learns nothing of which ids exist.
    """
    if not (aggregate.exists and aggregate.owned_by(principal)):
        raise Forbidden(principal, operation, audience)
