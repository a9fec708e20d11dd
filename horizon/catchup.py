"""Catch-up: feed a consumer the history it has not applied yet, read from the events table, not the stream.

The stream keeps 24 hours; a new projector, or one whose bug was just fixed, needs every aggregate. Catch-up
lists the aggregates of one Scan segment and feeds each one's events after the consumer's tracked position
through the same runtime that serves the stream (`TrackedConsumer.process_batch`): the same conditional commits
of documents and position, so stream and catch-up may run at once and whichever applies a version first wins,
the other skips it as a duplicate. See docs/delivery.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from horizon.consumers import TrackedConsumer
from horizon.errors import BadRequest
from horizon.events import Event
from horizon.eventstore import AggregateRef

CHUNK = 99
"""Events of one aggregate per commit offered: with the tracking document, at most 100 transaction actions."""

BATCH = 50
"""Aggregates offered together, as a stream batch would: the runtime writes a shared document (a counter) once
per group that fits one transaction, not once per aggregate, which is what bounds a hot document's catch-up."""


@dataclass(frozen=True)
class Slice:
    """Which part of history to offer: an aggregate type, one aggregate, from a version, or touched since a time.

    Tracking still decides what is new: an offered event at or below the consumer's position is a duplicate,
    and events between the position and `from_version` are read back by the runtime's gap repair.
    """

    aggregate_type: str | None = None
    aggregate_id: UUID | None = None
    from_version: int = 1
    since: datetime | None = None


@dataclass
class CatchUpReport:
    """What one catch-up run did: aggregates listed, events offered, and the aggregates that failed (why)."""

    aggregates: int = 0
    events: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def catch_up(consumer: TrackedConsumer, segment: int = 0, total: int = 1, where: Slice | None = None) -> CatchUpReport:
    """Bring `consumer` up to date on every aggregate of Scan segment `segment` of `total` (in `where`).

    One call per segment: the CLI runs them in-process, the rebuild state machine runs one Lambda per segment.
    A failing aggregate is reported and parks only itself; the others go on.
    """
    where = where or Slice()
    report = CatchUpReport()
    batch: list[list[Event]] = []
    for ref in _aggregates(consumer, segment, total, where):
        report.aggregates += 1
        for chunk in _chunks(consumer, ref, where):
            # One chunk per aggregate per batch: the runtime would merge two into one run past CHUNK events.
            if len(batch) == BATCH or any(commit[0].stream == chunk[0].stream for commit in batch):
                _offer(consumer, batch, report)
            batch.append(chunk)
    _offer(consumer, batch, report)
    return report


def _aggregates(consumer: TrackedConsumer, segment: int, total: int, where: Slice) -> Iterable[AggregateRef]:
    if where.aggregate_id is not None:
        if where.aggregate_type is None:
            raise BadRequest("catch-up: an aggregate id needs its aggregate type")
        # One aggregate belongs to one segment: the first, so that running every segment offers it once.
        return [AggregateRef(where.aggregate_type, where.aggregate_id, 0)] if segment == 0 else []
    listed = consumer.event_store.aggregates(segment, total)
    return (ref for ref in listed if where.aggregate_type in (None, ref.aggregate_type))


def _chunks(consumer: TrackedConsumer, ref: AggregateRef, where: Slice) -> list[list[Event]]:
    # One read of the history serves the position (the ledgers it names) and the events to offer.
    position, unsent, unapplied = consumer.unapplied(ref.aggregate_type, ref.aggregate_id)
    after = max(position, where.from_version - 1)
    events = [event for event in unapplied if event.version > after]
    if not events and unsent:
        # A saga crashed between deciding and sending: offering its last event again (a duplicate) sends them.
        events = consumer.event_store.load(ref.aggregate_type, ref.aggregate_id, position - 1)
    if not events or (where.since is not None and events[-1].timestamp < where.since):
        return []
    return [events[start : start + CHUNK] for start in range(0, len(events), CHUNK)]


def _offer(consumer: TrackedConsumer, batch: list[list[Event]], report: CatchUpReport) -> None:
    if not batch:
        return
    failed = consumer.process_batch(batch)
    report.events += sum(len(chunk) for chunk in batch)
    for (aggregate_type, aggregate_id), error in failed.items():
        # A later chunk of a failed aggregate fails too (its gap repair meets the same error): reported once.
        report.failed.setdefault(f"{aggregate_type}#{aggregate_id}", f"{type(error).__name__}: {error}")
    batch.clear()
