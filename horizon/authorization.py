"""Who may send which command: principals, audiences, and the one check every entry point passes through.

A command declares its audience next to its definition (`audience = public("hosts")`, or the default
`INTERNAL`). The command handler checks the principal of every command against that audience, so HTTP on AWS,
the local stack, the saga runtime and any CLI are refused or allowed by the same line of code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from horizon.errors import HorizonError


@dataclass(frozen=True)
class Audience:
    """The roles that may send a command; no roles at all means internal: only sagas (`sagas`, or any)."""

    roles: frozenset[str]
    sagas: frozenset[str] = frozenset()

    @property
    def internal(self) -> bool:
        """True when no client, whatever its roles, may send the command."""
        return not self.roles


def internal(*sagas: str) -> Audience:
    """An audience of sagas only: the named ones, or any saga when none is named. No HTTP route."""
    return Audience(frozenset(), frozenset(sagas))


INTERNAL = internal()
"""Only sagas dispatch these commands; they have no HTTP route."""


def public(*roles: str) -> Audience:
    """An audience of clients holding any of `roles` (e.g. the Cognito group `hosts`)."""
    if not roles:
        raise ValueError("a public audience names at least one role; use INTERNAL for none")
    return Audience(frozenset(roles))


@dataclass(frozen=True)
class Principal:
    """Who sends a command: an authenticated client (subject, roles) or a saga acting on an event."""

    subject: str
    roles: frozenset[str] = frozenset()
    saga: str | None = None
    cause: str | None = None

    @classmethod
    def client(cls, subject: str, roles: Iterable[str]) -> Principal:
        """A client whose token an authorizer already verified."""
        return cls(subject=subject, roles=frozenset(roles))

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

    def actor(self) -> dict[str, Any]:
        """What each event's metadata records as its actor: who did it, and for a saga, because of what."""
        if self.saga is not None:
            return {"saga": self.saga, "cause": self.cause}
        return {"subject": self.subject, "roles": sorted(self.roles)}


class Forbidden(HorizonError):
    """An authenticated principal outside a command's or a route's audience (answers 403)."""

    def __init__(self, principal: Principal, operation: str, audience: Audience) -> None:
        if not audience.internal:
            needed = f"one of the roles {sorted(audience.roles)}"
        else:
            needed = f"to be the saga {' or '.join(sorted(audience.sagas))}" if audience.sagas else "to be a saga"
        super().__init__(f"{operation}: {principal.subject} may not do this; it needs {needed}")
        self.principal = principal
        self.operation = operation


class Unauthenticated(HorizonError):
    """A request with no verified token where one is required (answers 401 with WWW-Authenticate: Bearer)."""


def authorize(principal: Principal, operation: str, audience: Audience) -> None:
    """Raise Forbidden unless the principal is in the audience."""
    if not principal.may_send(audience):
        raise Forbidden(principal, operation, audience)
