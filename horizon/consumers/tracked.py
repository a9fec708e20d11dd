"""Runtimes that feed commits to projectors and sagas exactly once in effect.

Delivery from DynamoDB Streams is at least once and, across a partial batch failure, can run ahead of a failed
record. Each consumer therefore keeps a tracking document per aggregate ("last version I applied"; beside the
document itself for a per-aggregate projector) and records it in the same conditional write as the documents it
changed, once per batch: in the one document's ledger when that is all the write changes (horizon/consumers/
ledger.py), else in one transaction with them (docs/event-store.md, "Read side"):
- a commit at or below the tracked version is a duplicate and is skipped;
- a commit that starts past tracked + 1 is a gap, and the missing events are read back from the event store;
- a concurrent writer makes the conditional write fail, and the commit is processed again from fresh reads.
A saga's commands go into the tracking document's outbox in that same write and are sent afterwards with ids
derived from the causing event, so a crash between the write and the send repeats the send, never the decision.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from horizon.bounded_cache import BoundedCache
from horizon.commands import Command
from horizon.consumers.ledger import REACHED_ENTRIES, Outbox
from horizon.consumers.repair import GapRepair, describe
from horizon.errors import ReadModelConflict
from horizon.events import Event, EventData
from horizon.eventstore import EventStore
from horizon.readstore import Document, DocumentKey, ReadStore, Write
from horizon.registry import Registry
from horizon.retry import CONSUMER_CONFLICTS, RetryPolicy
from horizon.stream_batches import Stream, Transaction, Vouched, group_runs

logger = logging.getLogger(__name__)

_COMMAND_IDS = uuid.UUID("6f1d2b8e-4a59-4c4b-9a57-8d3b8e6e2f10")


class TrackedConsumer(GapRepair, ABC):
    """Shared bookkeeping of projector and saga runtimes: tracking, dedup, gap repair, conditional commit."""

    model: type[BaseModel]

    def __init__(
        self,
        name: str,
        registry: Registry,
        reads: ReadStore,
        events: EventStore,
        *,
        retry: RetryPolicy = CONSUMER_CONFLICTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self._registry = registry
        self._reads = reads
        self._events = events
        self._retry = retry
        self._sleep = sleep
        self._seen: dict[DocumentKey, int] = {}
        self._reached: BoundedCache[DocumentKey, int] = BoundedCache(max_entries=REACHED_ENTRIES)

    def process(self, commit: Sequence[Event]) -> None:
        """Apply one commit (events of one aggregate, consecutive versions) to this consumer."""
        failed = self.process_batch([commit])
        if failed:
            raise failed[next(iter(failed))]

    def process_batch(
        self, commits: Sequence[Sequence[Event]], vouched: Vouched | None = None
    ) -> dict[Stream, Exception]:
        """Apply a batch of commits, writing each changed document once per group of aggregates.

        One read for every document the batch needs; then, per group of aggregates that fits one transaction,
        every commit is folded and the group's documents and tracking positions are written together. Returns
        the aggregates whose group failed (with why); their commits took no effect and must be delivered again.
        `vouched` gives the types of versions the batch did not carry: those this consumer does not react to
        need no gap repair.
        """
        runs: dict[Stream, list[Event]] = {}
        for commit in commits:
            if commit:
                runs.setdefault(commit[0].stream, []).extend(commit)
        if not runs:
            return {}
        ordered = {stream: sorted({e.version: e for e in run}.values(), key=_version) for stream, run in runs.items()}
        self._seen = {}
        # Documents possibly stale (half the read units): every write is conditional, and a retry reads consistently.
        documents = self._read(sorted({key for run in ordered.values() for key in self._needs(run)}), fresh=False)
        failed: dict[Stream, Exception] = {}
        for group in group_runs(ordered, self._needs):
            failed |= self._commit_with_retries(group, documents, vouched or {})
        return failed

    def _commit_with_retries(
        self, group: dict[Stream, list[Event]], documents: dict[DocumentKey, Document], vouched: Vouched
    ) -> dict[Stream, Exception]:
        for attempt in range(1, self._retry.attempts + 1):
            try:
                self._commit_group(group, documents, vouched)
                return {}
            except ReadModelConflict as error:
                if attempt == self._retry.attempts:
                    return dict.fromkeys(group, error)
                logger.info("%s: conflict on %d aggregates, retrying from fresh reads", self.name, len(group))
                self._sleep(self._retry.pause(attempt))
                keys = sorted({key for run in group.values() for key in self._needs(run)})
                fresh = self._read(keys, fresh=True)
                for key in keys:
                    documents.pop(key, None)
                documents.update(fresh)
            except Exception as error:  # one group's failure must not stop the others: report and go on
                if len(group) == 1:
                    logger.exception("%s: %s failed", self.name, describe(next(iter(group.values()))))
                    return dict.fromkeys(group, error)
                # A poison commit parks only its own aggregate: the group's others are committed one by one.
                logger.warning("%s: a group of %d aggregates failed, isolating it", self.name, len(group))
                failed: dict[Stream, Exception] = {}
                for stream, run in group.items():
                    failed |= self._commit_with_retries({stream: run}, documents, vouched)
                return failed
        return {}

    def tracking_key(self, event: Event) -> DocumentKey:
        """Where this consumer records how far it got in the event's aggregate."""
        return (self.tracking_collection, f"{event.aggregate_type}#{event.aggregate_id}")

    @property
    def event_store(self) -> EventStore:
        """The store this consumer repairs gaps from (and catch-up reads history from)."""
        return self._events

    def position(self, aggregate_type: str, aggregate_id: UUID) -> int:
        """The last version of one aggregate this consumer applied (0: none yet), strongly consistent."""
        return self.progress(aggregate_type, aggregate_id)[0]

    def progress(self, aggregate_type: str, aggregate_id: UUID) -> tuple[int, bool]:
        """The position in one aggregate, and whether commands decided there are still unsent (an outbox)."""
        position, unsent, _ = self.unapplied(aggregate_type, aggregate_id)
        return position, unsent

    def unapplied(self, aggregate_type: str, aggregate_id: UUID) -> tuple[int, bool, list[Event]]:
        """`progress`, and the aggregate's events after the position, from one read of its history."""
        if not self.tracks_in_documents:
            # The history after the tracking item names the documents whose ledgers may hold a later position.
            tail: list[Event] = []

            def changed_after(version: int) -> list[DocumentKey]:
                tail.extend(self._events.load(aggregate_type, aggregate_id, version))
                return self.keys_of_run(tail)

            position, unsent = self._tracked_progress(f"{aggregate_type}#{aggregate_id}", changed_after)
            return position, unsent, [event for event in tail if event.version > position]
        # The position sits beside the aggregate's document, whose key only an event names.
        history = self._events.load(aggregate_type, aggregate_id)
        for event in history:
            for key in self.keys(event):
                document = self._reads.get(*key)
                position = (document.position or 0) if document else 0
                return position, False, [later for later in history if later.version > position]
        return 0, False, history

    tracks_in_documents = False
    """Whether each aggregate's position lives beside its one document instead of in a tracking document."""

    def _needs(self, run: Sequence[Event]) -> list[DocumentKey]:
        keys = self.keys_of_run(run)
        if self.tracks_in_documents or (not keys and run[0].version == 1):
            # An aggregate's first run that changes nothing can be neither a duplicate nor past a gap that matters:
            # whatever its position, nothing is written (a guest list's invitation created, not yet answered).
            return keys
        return [self.tracking_key(run[0]), *keys]

    def _commit_group(
        self, group: dict[Stream, list[Event]], documents: dict[DocumentKey, Document], vouched: Vouched
    ) -> None:
        if self.tracks_in_documents:
            for run in group.values():
                self._commit_in_document(run, documents, vouched)
            return
        # Every ledger this group may drop reaches its tracking items first; the positions below then count it.
        self._settle(sorted({key for run in group.values() for key in self.keys_of_run(run)}), documents)
        working: dict[DocumentKey, dict[str, Any] | None] = {k: d.body for k, d in documents.items()}
        transaction = Transaction()
        for run in group.values():
            tracking_key = self.tracking_key(run[0])
            tracking = documents.get(tracking_key)
            if tracking and tracking.body.get("outbox"):
                tracking = documents[tracking_key] = self.flush(tracking)
            position = int(tracking.body["version"]) if tracking else 0
            events = [event for event in run if event.version > position]
            if not events:
                logger.info("%s: skipped duplicate %s at tracked version %d", self.name, describe(run), position)
                continue
            if self._gap(position, events, vouched):
                events = self._repair(run, position, documents, working)
            outbox: Outbox = []
            changed = False
            last = 0
            for event in events:
                keys = set(self.keys(event))
                weight = len(event.model_dump_json()) + sum(
                    len(json.dumps(working.get(key))) for key in keys - transaction.keys
                )
                if not transaction.fits(keys, weight):
                    # A long gap repair: what is folded so far is written first, with its position.
                    if changed or outbox:
                        transaction.positions.append((tracking_key, {"version": last, "outbox": outbox}))
                    self._write(transaction, documents, working)
                    outbox, changed = [], False
                for data in self._registry.decode(event):
                    outbox.extend(self.fold(working, event, data))
                transaction.add(keys, weight)
                changed, last = changed or bool(keys), event.version
            if changed or outbox:
                # Events that change nothing need no position: a later commit finds the gap and reads them back.
                transaction.positions.append((tracking_key, {"version": last, "outbox": outbox}))
        self._write(transaction, documents, working)

    def _commit_in_document(self, run: list[Event], documents: dict[DocumentKey, Document], vouched: Vouched) -> None:
        """One aggregate's commits into its one document, the position beside it: a single-item write."""
        keys = self.keys_of_run(run)
        if not keys:
            return
        if len(keys) > 1:
            raise LookupError(f"{self.name}: {describe(run)} touches {len(keys)} documents, per_aggregate allows 1")
        (key,) = keys
        document = documents.get(key)
        position = (document.position or 0) if document else 0
        events = [event for event in run if event.version > position]
        if not events:
            logger.info("%s: skipped duplicate %s at version %d", self.name, describe(run), position)
            return
        working: dict[DocumentKey, dict[str, Any] | None] = {key: document.body if document else None}
        if self._gap(position, events, vouched):
            events = self._repair(run, position, documents, working)
        for event in events:
            for data in self._registry.decode(event):
                self.fold(working, event, data)
        body = working[key]
        if body is None:
            raise LookupError(f"{self.name}: {describe(run)} deleted {key[1]}, which per_aggregate does not allow")
        write = Write(*key, body, _revision(document), position=events[-1].version)
        self._reads.commit([write])
        documents[key] = Document(*key, body, write.expected_revision + 1, write.position)

    def keys(self, event: Event) -> list[DocumentKey]:
        """The document an event will read and write, if any: one per consumer and event at most."""
        # An undeclared type is a no-op by construction, so a subscription that never delivers it changes nothing.
        key = None if self.reacts_to is not None and event.type not in self.reacts_to else self.key_of(event)
        return [] if key is None else [(self.name, key)]

    def fold(
        self, working: dict[DocumentKey, dict[str, Any] | None], event: Event, data: EventData
    ) -> list[dict[str, Any]]:
        """Apply one event to the working documents; return outbox entries (commands to send)."""
        outbox: list[dict[str, Any]] = []
        for key in self.keys(event):
            body = working.get(key)
            current = None if body is None else self.model.model_validate(body)
            result, commands = self.step(current, event, data)
            working[key] = None if result is None else result.model_dump(mode="json")
            outbox.extend(
                {
                    "type": command.command_type,
                    "body": command.model_dump_json(),
                    "command_id": str(uuid.uuid5(_COMMAND_IDS, f"{self.name}:{event.event_id}:{index}")),
                    "correlation_id": event.metadata.correlation_id,
                    "causation_id": str(event.event_id),
                    "state": key[1],
                }
                for index, command in enumerate(commands)
            )
        return outbox

    @abstractmethod
    def key_of(self, event: Event) -> str | None:
        """The key of the document this event concerns, or None to only advance the tracking position."""

    @abstractmethod
    def step(self, current: Any, event: Event, data: EventData) -> tuple[BaseModel | None, Sequence[Command]]:
        """The next document for one event, and the commands it causes (ids derived from the event)."""


def _version(event: Event) -> int:
    return event.version


def _revision(document: Document | None) -> int:
    return document.revision if document else 0
