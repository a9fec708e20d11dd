"""Replaying history: an aggregate rebuilt from its events, up to a version or a moment (time travel)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from horizon.aggregate import Aggregate
from horizon.errors import AggregateNotFound, BadRequest, VersionNotFound
from horizon.events import Event
from horizon.eventstore import EventStore
from horizon.registry import Registry


def replay(registry: Registry, aggregate_type: str, aggregate_id: UUID, events: Iterable[Event]) -> Aggregate:
    """The aggregate after applying `events` (in version order) to a fresh one; version 0 when there are none.

    Raises UnknownType for an unregistered aggregate type and UnreadableHistory for an event the code cannot read.
    """
    aggregate = registry.aggregate(aggregate_type)(aggregate_id)
    for event in events:
        for data in registry.decode(event):
            aggregate.apply(data)
        aggregate.version = event.version
    return aggregate


def until(events: Iterable[Event], *, version: int | None = None, as_of: datetime | None = None) -> list[Event]:
    """The prefix of a history up to and including `version`, or up to events stamped at or before `as_of`."""
    kept: list[Event] = []
    for event in events:
        if (version is not None and event.version > version) or (as_of is not None and event.timestamp > as_of):
            break
        kept.append(event)
    return kept


@dataclass(frozen=True)
class HistoryPage:
    """Events of one aggregate in version order; `next_after` is where the next page starts (None: the end)."""

    events: list[Event]
    next_after: int | None
    current_version: int


def read_page(
    store: EventStore,
    aggregate_type: str,
    aggregate_id: UUID,
    *,
    from_version: int = 1,
    to_version: int | None = None,
    limit: int = 100,
    operation: str = "read history",
) -> HistoryPage:
    """Up to `limit` events from `from_version` to `to_version` (inclusive; both must exist)."""
    if to_version is not None and from_version > to_version:
        raise BadRequest(f"{operation}: from_version {from_version} is after to_version {to_version}")
    events = store.load(aggregate_type, aggregate_id, from_version - 1)
    current = events[-1].version if events else _current_version(store, aggregate_type, aggregate_id, operation)
    if not events:
        raise VersionNotFound(aggregate_type, aggregate_id, operation, f"version {from_version}", current)
    if to_version is not None and to_version > current:
        raise VersionNotFound(aggregate_type, aggregate_id, operation, f"version {to_version}", current)
    wanted = [event for event in events if to_version is None or event.version <= to_version]
    page = wanted[:limit]
    return HistoryPage(page, page[-1].version if len(wanted) > limit else None, current)


def state_at(
    registry: Registry,
    store: EventStore,
    aggregate_type: str,
    aggregate_id: UUID,
    *,
    version: int | None = None,
    as_of: datetime | None = None,
    operation: str = "read state",
) -> Aggregate:
    """The aggregate as it was at `version`, or after the last event stamped at or before `as_of`, or now."""
    if version is not None and as_of is not None:
        raise BadRequest(f"{operation}: give a version or a time, not both")
    registry.aggregate(aggregate_type)
    events = store.load(aggregate_type, aggregate_id)
    if not events:
        raise AggregateNotFound(aggregate_type, aggregate_id, operation)
    current = events[-1].version
    if version is not None and version > current:
        raise VersionNotFound(aggregate_type, aggregate_id, operation, f"version {version}", current)
    kept = until(events, version=version, as_of=as_of)
    if not kept:
        raise VersionNotFound(aggregate_type, aggregate_id, operation, f"state as of {as_of}", current)
    return replay(registry, aggregate_type, aggregate_id, kept)


def _current_version(store: EventStore, aggregate_type: str, aggregate_id: UUID, operation: str) -> int:
    everything = store.load(aggregate_type, aggregate_id)
    if not everything:
        raise AggregateNotFound(aggregate_type, aggregate_id, operation)
    return everything[-1].version
