"""An in-memory event store that keeps unique-value claims, for unit tests and the in-memory stack."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from horizon.errors import ConcurrencyError
from horizon.events import Event
from horizon.eventstore import Snapshot, check_append
from horizon.memory.eventstore import MemoryEventStore
from horizon.uniqueness import ClaimingEventStore, ClaimSet, ValueTaken


class MemoryClaimingEventStore(MemoryEventStore, ClaimingEventStore):
    """MemoryEventStore plus claims (scope, digest) → owner, changed under the same lock as the commit."""

    def __init__(self) -> None:
        super().__init__()
        self.claims: dict[tuple[str, str], tuple[str, UUID]] = {}

    def append_claiming(
        self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None, claims: ClaimSet
    ) -> None:
        """Like `append`, with the claims and releases in the same atomic write; ValueTaken for a taken value."""
        check_append(events, expected_version)
        owner = events[0].stream
        with self._lock:
            actual = len(self._streams.get(owner, []))
            if actual != expected_version:  # a lost race is a conflict, whatever the claims
                raise ConcurrencyError(owner[0], owner[1], expected_version, actual, self._head(owner))
            for scope, digest in claims.claims.items():
                holder = self.claims.get((scope, digest))
                if holder is not None and holder != owner:
                    raise ValueTaken(owner[0], owner[1], scope)
            self._append(events, expected_version, snapshot)
            changed = claims.releases | claims.claims.keys()
            for key in [key for key, holder in self.claims.items() if holder == owner and key[0] in changed]:
                del self.claims[key]
            for scope, digest in claims.claims.items():
                self.claims[(scope, digest)] = owner
