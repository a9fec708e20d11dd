"""Gap repair: the events a consumer's delivery skipped, read back from the event store before the next one."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from horizon.consumers.ledger import LedgerWriter
from horizon.errors import ReadModelConflict
from horizon.events import Event
from horizon.eventstore import EventStore
from horizon.projection import EventTypes
from horizon.readstore import Document, DocumentKey
from horizon.stream_batches import Vouched

logger = logging.getLogger(__name__)


class GapRepair(LedgerWriter):
    """Finds the versions missing before a commit and reads them back, with the documents they change."""

    _events: EventStore
    reacts_to: EventTypes = None
    """The event types the consumer declared (None: all): it folds no other, whatever its key function says."""

    @abstractmethod
    def keys(self, event: Event) -> list[DocumentKey]:
        """The document an event will read and write, if any: one per consumer and event at most."""

    def keys_of_run(self, run: Sequence[Event]) -> list[DocumentKey]:
        """The documents a run of one aggregate's events changes."""
        return sorted({key for event in run for key in self.keys(event)})

    @abstractmethod
    def tracking_key(self, event: Event) -> DocumentKey:
        """Where this consumer records how far it got in the event's aggregate."""

    @abstractmethod
    def _needs(self, run: Sequence[Event]) -> list[DocumentKey]:
        """The documents and tracking item a run of one aggregate's events reads."""

    def _gap(self, position: int, events: Sequence[Event], vouched: Vouched) -> bool:
        """Whether versions after the position are missing and may matter to this consumer: a read is needed.

        A missing version may be passed only when the batch vouches for its stored type and this consumer does
        not react to that type: folding it would have changed nothing (see `keys`).
        """
        carried = {event.version for event in events}
        missing = [v for v in range(position + 1, events[-1].version + 1) if v not in carried]
        known = vouched.get(events[0].stream, {}) if self.reacts_to is not None else {}
        return any(known.get(v) is None or known[v] in (self.reacts_to or ()) for v in missing)

    def _repair(
        self,
        run: Sequence[Event],
        position: int,
        documents: dict[DocumentKey, Document],
        working: dict[DocumentKey, dict[str, Any] | None],
    ) -> list[Event]:
        """The events after the tracked position up to the run's last, read back from the event store.

        The documents they change that were not read yet are read now, after the tracking items (so a write of
        them takes the transaction): their ledgers are settled, and one that held a further position in this
        aggregate makes the group start over.
        """
        head, last = run[0], run[-1].version
        # Info, not warning: a skipped no-change commit (see _commit_group) leads here on purpose.
        logger.info("%s: %s starts past version %d, reading the store", self.name, describe(run), position)
        events = [e for e in self._events.load(head.aggregate_type, head.aggregate_id, position) if e.version <= last]
        if not events or events[0].version != position + 1:
            raise LookupError(f"{self.name}: the store has no events after v{position} for {describe(run)}")
        read = set(documents) | set(self._needs(run))  # absent documents were read too, and found missing
        missing = sorted(set(self.keys_of_run(events)) - read)
        found = self._stamped(missing, self._reads.get_many) if missing else {}
        documents.update(found)
        working.update({key: document.body for key, document in found.items()})
        if self._settle(sorted(found), documents) & {self.tracking_key(head)}:
            raise ReadModelConflict(f"{self.name}: {describe(run)} was applied further than tracked, starting over")
        return events


def describe(commit: Sequence[Event]) -> str:
    """One aggregate's run of versions, for logs and errors."""
    head = commit[0]
    return f"{head.aggregate_type} {head.aggregate_id} v{head.version}-{commit[-1].version}"
