"""Sealing in the write and read paths: personal fields are encrypted before they are stored, opened on load.

`Sealer` knows, from the registry, which fields of which event types are personal; it seals events on their
way in and opens whole batches on their way out with one batched key read. `SealingEventStore` wraps any
EventStore with it, so the command handler, time travel, the CLI and the consumers' gap repair all read opened
events and nothing in clear reaches a table. The tip's state snapshot of an aggregate with personal data is
sealed whole with the subject's key; once the subject is forgotten it cannot be opened and is ignored (the
history, redacted, decides instead), and no new snapshot is stored for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from uuid import UUID

from pydantic import BaseModel

from horizon.errors import ConcurrencyError, InvalidEvents
from horizon.events import Event, EventData
from horizon.eventstore import AggregateRef, EventStore, Head, Snapshot
from horizon.privacy.cipher import FieldCipher, is_sealed
from horizon.privacy.keys import SubjectForgotten
from horizon.privacy.marking import personal_fields, subject_of
from horizon.registry import Registry
from horizon.uniqueness import Claimer, ClaimingEventStore

SNAPSHOT_FIELD = "(snapshot)"
"""The field name a sealed snapshot is bound to (its associated data), so it never opens as an event field."""


class _SnapshotState(BaseModel):
    """Stand-in model: a snapshot's state is one personal field."""

    state: str


class Sealer:
    """Seals and opens the personal fields of a registry's events with one FieldCipher."""

    def __init__(self, registry: Registry, cipher: FieldCipher) -> None:
        self.cipher = cipher
        self._models: dict[str, type[EventData]] = {
            name: model for name, model in registry.event_types.items() if personal_fields(model)
        }
        self._forgetting = {name for name, model in registry.event_types.items() if model.forgets_subject}
        self.personal_aggregates = frozenset(
            registry.owner(name).aggregate_type for name in {*self._models, *self._forgetting}
        )

    def seal(self, events: Sequence[Event]) -> list[Event]:
        """The events with every personal field sealed for their aggregate's subject."""
        sealed = []
        for event in events:
            model = self._models.get(event.type)
            if model is None:
                sealed.append(event)
                continue
            data = self.cipher.seal(subject_of(event.aggregate_type, event.aggregate_id), model, event.data)
            sealed.append(event.model_copy(update={"data": data}))
        return sealed

    def open(self, events: Sequence[Event]) -> list[Event]:
        """The events with their sealed fields opened (redacted for forgotten subjects): one batched key read."""
        subjects = {
            subject_of(e.aggregate_type, e.aggregate_id) for e in events if e.type in self._models and _has_sealed(e)
        }
        if not subjects:
            return list(events)
        keys = self.cipher.keys.keys_for_reading(sorted(subjects))
        opened = []
        for event in events:
            model = self._models.get(event.type)
            subject = subject_of(event.aggregate_type, event.aggregate_id)
            if model is None or subject not in subjects:
                opened.append(event)
                continue
            data = self.cipher.open(subject, model, event.data, keys.get(subject))
            opened.append(event.model_copy(update={"data": data}))
        return opened

    def open_commits(self, commits: Sequence[Sequence[Event]]) -> list[list[Event]]:
        """Every commit of a consumer batch opened, with one key read for the whole batch."""
        flat = self.open([event for commit in commits for event in commit])
        opened, start = [], 0
        for commit in commits:
            opened.append(flat[start : start + len(commit)])
            start += len(commit)
        return opened

    def forgets(self, events: Iterable[Event]) -> bool:
        """True when one of the events records that its subject was forgotten."""
        return any(event.type in self._forgetting for event in events)

    def seal_snapshot(self, aggregate_type: str, aggregate_id: UUID, snapshot: Snapshot) -> Snapshot | None:
        """The snapshot with its state sealed, or None for a forgotten subject (it keeps no snapshot)."""
        if aggregate_type not in self.personal_aggregates:
            return snapshot
        subject = subject_of(aggregate_type, aggregate_id)
        try:
            key = self.cipher.keys.key_for_writing(subject)
        except SubjectForgotten:
            return None
        return replace(snapshot, state=self.cipher.seal_value(key, subject, SNAPSHOT_FIELD, snapshot.state))

    def open_snapshot(self, aggregate_type: str, aggregate_id: UUID, snapshot: Snapshot) -> Snapshot | None:
        """The snapshot with its state opened, or None when its subject was forgotten (replay instead)."""
        if not is_sealed(snapshot.state):
            # Written before sealing, or by an aggregate without personal data.
            return snapshot if aggregate_type not in self.personal_aggregates else None
        subject = subject_of(aggregate_type, aggregate_id)
        key = self.cipher.key_for(subject)
        if key is None:
            return None
        return replace(snapshot, state=self.cipher.open_value(key, subject, SNAPSHOT_FIELD, snapshot.state))


def _has_sealed(event: Event) -> bool:
    return any(is_sealed(value) for value in event.data.values())


class SealingEventStore(EventStore):
    """Any EventStore, with personal fields sealed on append and opened on every load."""

    def __init__(self, inner: EventStore, sealer: Sealer, claimer: Claimer | None = None) -> None:
        self.inner = inner
        self.sealer = sealer
        self.claimer = claimer

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        """Return the aggregate's events with a version above `after_version`, in version order."""
        return self.sealer.open(self.inner.load(aggregate_type, aggregate_id, after_version))

    def aggregates(self, segment: int = 0, total: int = 1) -> Iterator[AggregateRef]:
        """Every aggregate in segment `segment` of `total` disjoint segments (all of them together: the store)."""
        return self.inner.aggregates(segment, total)

    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        """Return the aggregate's head (version 0 when it has no events) in as few reads as the store can."""
        return self._opened(aggregate_type, aggregate_id, self.inner.load_head(aggregate_type, aggregate_id))

    def append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None = None) -> None:
        """Atomically store events (and the state after them) continuing from `expected_version`.

        Raise ConcurrencyError if the aggregate moved; its `head`, when set, is the winner's head.
        """
        if not events:
            self.inner.append(events, expected_version, snapshot)
            return
        first = events[0]
        if self.sealer.forgets(events):
            # The key goes first: a crash after it leaves the data forgotten and the event to be recorded by a
            # retry, never an event claiming a forget that did not happen.
            self.sealer.cipher.keys.forget(subject_of(first.aggregate_type, first.aggregate_id))
            snapshot = None
        elif snapshot is not None:
            snapshot = self.sealer.seal_snapshot(first.aggregate_type, first.aggregate_id, snapshot)
        # Claims hash the values in clear, so they are read before sealing.
        claims = self.claimer.claims_of(events) if self.claimer is not None else None
        try:
            if claims:
                if not isinstance(self.inner, ClaimingEventStore):
                    raise InvalidEvents(f"append to {first.aggregate_type}: the store cannot keep unique claims")
                self.inner.append_claiming(self.sealer.seal(events), expected_version, snapshot, claims)
            else:
                self.inner.append(self.sealer.seal(events), expected_version, snapshot)
        except ConcurrencyError as lost:
            if lost.head is not None:
                lost.head = self._opened(first.aggregate_type, first.aggregate_id, lost.head)
            raise

    def _opened(self, aggregate_type: str, aggregate_id: UUID, head: Head) -> Head:
        snapshot = head.snapshot
        if snapshot is not None:
            snapshot = self.sealer.open_snapshot(aggregate_type, aggregate_id, snapshot)
        return replace(head, snapshot=snapshot, events=tuple(self.sealer.open(head.events)))
