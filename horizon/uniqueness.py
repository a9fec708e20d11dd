"""Unique values across aggregates: an event claims a value, another releases it, in the commit's own write.

An event model declares `claims = {"invitation-email": "email"}` (scope → the field whose value it claims) or
`releases = ("invitation-email",)`. A store that is a `ClaimingEventStore` writes the claim items in the same
transaction as the commit, conditional on the value being free or already the aggregate's own; a taken value
fails the whole commit with `ValueTaken`. Claim items are keyed by a keyed hash (HMAC-SHA256 with a secret the
composition root fetches on first use), so the store never holds the plain value. docs/privacy.md explains
why this beats a saga.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from horizon.errors import DomainError
from horizon.events import Event
from horizon.eventstore import EventStore, Snapshot
from horizon.registry import Registry


@dataclass(frozen=True)
class ClaimSet:
    """What one commit does to unique values: new claims (scope → digest) and released scopes."""

    claims: dict[str, str] = field(default_factory=dict)
    releases: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.claims or self.releases)


class ValueTaken(DomainError):
    """A commit claimed a unique value another aggregate holds (answers 409, naming the scope, never the value)."""

    def __init__(self, aggregate_type: str, aggregate_id: UUID, scope: str) -> None:
        super().__init__(
            f"{aggregate_type} {aggregate_id}: that {label(scope)} is taken",
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
        )
        self.scope = scope


def label(scope: str) -> str:
    """How a scope reads in an answer: its last word ("invitation-email" → "e-mail")."""
    word = scope.rsplit("-", 1)[-1]
    return "e-mail" if word == "email" else word


class ClaimingEventStore(EventStore):
    """An event store that also keeps unique-value claims, written atomically with the commits that make them."""

    @abstractmethod
    def append_claiming(
        self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None, claims: ClaimSet
    ) -> None:
        """Like `append`, with the claims and releases in the same atomic write; ValueTaken for a taken value."""


class Claimer:
    """Reads the claims and releases of a commit from its events' declarations, hashing values with a secret.

    `secret` is the key itself, or a function that fetches it (and caches it): called only when a commit claims
    a value, so a function that never claims never fetches it.
    """

    def __init__(self, registry: Registry, secret: bytes | Callable[[], bytes]) -> None:
        self._secret = secret if callable(secret) else (lambda: secret)
        types = registry.event_types
        self._claims = {name: dict(model.claims) for name, model in types.items() if model.claims}
        self._releases = {name: frozenset(model.releases) for name, model in types.items() if model.releases}

    def claims_of(self, events: Sequence[Event]) -> ClaimSet:
        """The commit's claims (of values present, in clear: call before sealing) and releases, the last one winning."""
        claims: dict[str, str] = {}
        releases: set[str] = set()
        for event in events:
            for scope in self._releases.get(event.type, ()):
                claims.pop(scope, None)
                releases.add(scope)
            for scope, name in self._claims.get(event.type, {}).items():
                value = event.data.get(name)
                if value is not None:
                    claims[scope] = self.digest(scope, str(value))
                    releases.discard(scope)
        return ClaimSet(claims, frozenset(releases))

    def digest(self, scope: str, value: str) -> str:
        """The keyed hash a claim is stored under: the same value in another scope hashes differently."""
        return hmac.new(self._secret(), f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()
