"""Positions written ahead in the shared document itself: a group that changes one document costs plain writes.

A consumer of shared documents records, with every change, how far it got in each aggregate that made it. In one
transaction with the document, each tracking item bills 2 WRU. When a write changes exactly one document, the
positions (and a saga's outbox) ride instead in that document's `ledger`, beside its body, in one conditional
PutItem; each is then copied to its tracking item with a plain conditional write (a saga sends its outbox first,
so the copy is also the clear). Writes that change several documents, or delete one, stay one transaction.

The invariant: every applied (aggregate, version) is recorded in its tracking item, or in the ledger of the
latest revision of the document its event changed (one per consumer and event at most). Hence:
- the position in an aggregate is the larger of its tracking item and a ledger entry;
- before a document is written (which drops its ledger), every entry of the ledger it was read with is settled:
  its tracking item is read strongly and written if behind; the write's condition proves that ledger is the
  latest;
- a document is read before the tracking items it is checked against (strongly): an entry dropped after the
  document was read had been settled before, so the later read of its tracking item sees it;
- a tracking item only moves forward: it is written over a lower version only, and read again on a conflict.
A crash after the document's write leaves its ledger to the next writer, a redelivery, or catch-up.

Because tracking items only move forward, a consumer remembers (`_reached`, bounded) the versions it saw its own
settling write or find on a tracking item: a ledger entry at or below one is settled already and is not read
again. The next batch of the same warm consumer usually reads the ledger it wrote itself, so settling it is free.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from horizon.bounded_cache import BoundedCache
from horizon.errors import ReadModelConflict
from horizon.readstore import Document, DocumentKey, ReadStore, Write
from horizon.stream_batches import Transaction

MAX_LEDGER_BYTES = 64_000
"""A larger ledger (a group's many outboxes) goes in a transaction instead: it is billed with every write."""

MAX_ITEM_BYTES = 300_000
"""The document and its ledger stay well under DynamoDB's 400 KB item, or the write takes the transaction."""

REACHED_ENTRIES = 10_000
"""How many tracking items' settled versions a warm consumer remembers (a few hundred KB at most)."""

SETTLE_ATTEMPTS = 5
"""Each conflict on a tracking item means another writer moved it forward: a few re-reads are always enough."""

Outbox = list[dict[str, Any]]

_TICKS = itertools.count(1)
"""Orders every read (and write) a consumer makes of a document: see `LedgerWriter._seen`."""


class LedgerWriter:
    """The writes of a shared-document consumer: documents with their positions, and their tracking items."""

    name: str
    _reads: ReadStore
    _seen: dict[DocumentKey, int]
    """When this batch last read each document, or learnt it from its own conditional write (a tick of _TICKS).
    One document's write may carry positions in its ledger only if their tracking items were read after it."""
    _reached: BoundedCache[DocumentKey, int]
    """Tracking key → a version its item has reached, as this consumer settled or found it; it lasts across
    batches. A fact that stays true (items only move forward), so entries at or below it need no settling read."""

    @property
    def tracking_collection(self) -> str:
        """The collection of this consumer's tracking items (one per aggregate)."""
        return f"_tracking.{self.name}"

    def send(self, outbox: Outbox) -> None:
        """Send an outbox's commands (idempotent by command id); sagas override this, projectors decide none."""

    def flush(self, tracking: Document) -> Document:
        """Send the outbox of a tracking document, then clear it with one conditional write."""
        if not tracking.body.get("outbox"):
            return tracking
        self.send(tracking.body["outbox"])
        cleared = {**tracking.body, "outbox": []}
        self._reads.commit([Write(tracking.collection, tracking.key, cleared, tracking.revision)])
        return Document(tracking.collection, tracking.key, cleared, tracking.revision + 1)

    def _read(self, keys: list[DocumentKey], *, fresh: bool) -> dict[DocumentKey, Document]:
        """Documents (possibly stale unless `fresh`), then tracking items, strongly and after: see the invariant."""
        documents = [key for key in keys if key[0] != self.tracking_collection]
        tracking = [key for key in keys if key[0] == self.tracking_collection]
        found = self._stamped(documents, self._reads.get_many if fresh else self._reads.peek_many) if documents else {}
        return found | (self._stamped(tracking, self._reads.get_many) if tracking else {})

    def _stamped(
        self, keys: list[DocumentKey], read: Callable[[Sequence[DocumentKey]], dict[DocumentKey, Document]]
    ) -> dict[DocumentKey, Document]:
        """Read the keys, noting when (the absent ones too: they were found missing then)."""
        found = read(keys)
        self._seen.update(dict.fromkeys(keys, next(_TICKS)))
        return found

    def _settle(self, keys: list[DocumentKey], documents: dict[DocumentKey, Document]) -> set[DocumentKey]:
        """Make every ledger entry of these documents reach its tracking item; the tracking keys that moved."""
        entries = [
            ((self.tracking_collection, aggregate), entry)
            for key in keys
            if (document := documents.get(key)) is not None and document.ledger
            for aggregate, entry in document.ledger.items()
            if (self._reached.get((self.tracking_collection, aggregate)) or 0) < int(entry["version"])
        ]
        # The entries skipped above reached their tracking items before (most often by this consumer's last write).
        unread = sorted({key for key, _ in entries} - set(documents))
        if unread:
            # Strongly consistent, after the documents: an entry is dropped only once its item has it.
            documents.update(self._stamped(unread, self._reads.get_many))
        before = {key: _version(documents.get(key)) for key, _ in entries}
        for tracking_key, entry in entries:
            self._reach(tracking_key, entry, documents)
        for key in keys:
            if (document := documents.get(key)) is not None and document.ledger:
                documents[key] = replace(document, ledger=None)  # settled: this writer may drop it
        return {key for key, version in before.items() if _version(documents.get(key)) > version}

    def _reach(self, key: DocumentKey, entry: dict[str, Any], documents: dict[DocumentKey, Document]) -> None:
        """Write one position (sending its outbox first) unless its tracking item is already there or past it."""
        current, sent = documents.get(key), False
        for _ in range(SETTLE_ATTEMPTS):
            try:
                if current is not None and current.body.get("outbox"):
                    current = self.flush(current)  # a transaction's outbox, sent before it is written over
                if _version(current) >= entry["version"]:
                    break
                if entry["outbox"] and not sent:
                    self.send(entry["outbox"])
                    sent = True
                write = Write(*key, {"version": entry["version"], "outbox": []}, _revision(current))
                self._reads.commit([write])
                current = Document(*key, {"version": entry["version"], "outbox": []}, write.expected_revision + 1)
                break
            except ReadModelConflict:
                current = self._reads.get(*key)  # another writer settled it or moved it on: look again
        else:
            raise ReadModelConflict(f"{self.name}: settling position v{entry['version']} of {key[1]} kept conflicting")
        self._seen[key] = next(_TICKS)  # written or read just now: as good as a later read
        if current is not None:
            documents[key] = current
            self._reached.put(key, _version(current), 1)

    def _write(
        self,
        transaction: Transaction,
        documents: dict[DocumentKey, Document],
        working: dict[DocumentKey, dict[str, Any] | None],
    ) -> None:
        """Commit the transaction's documents and positions: one document with its ledger, else all together.

        A document read after a position's tracking item (by a gap repair, or a retry of another group) takes
        the transaction, whose conditions on the tracking items catch what the order of reads cannot.
        """
        if not transaction.positions:
            transaction.clear()
            return
        writes = [
            Write(*key, working.get(key), _revision(documents.get(key)))
            for key in sorted(transaction.keys)
            if working.get(key) is not None or key in documents
        ]
        positions = transaction.positions
        transaction.clear()
        for key, body in positions:
            if _version(documents.get(key)) >= body["version"]:
                # A settled ledger moved this position on since it was read: never write it back.
                raise ReadModelConflict(f"{self.name}: position v{body['version']} of {key[1]} is behind its tracking")
        ledger = {key[1]: body for key, body in positions}
        size = len(json.dumps(ledger))
        read = self._seen.get((writes[0].collection, writes[0].key), 0) if writes else 0
        if (
            len(writes) == 1
            and writes[0].body is not None
            and all(self._seen.get(key, 0) > read for key, _ in positions)
            and size <= MAX_LEDGER_BYTES
            and size + len(json.dumps(writes[0].body)) <= MAX_ITEM_BYTES
        ):
            write = replace(writes[0], ledger=ledger)
            self._reads.commit([write])
            key = (write.collection, write.key)
            documents[key] = Document(*key, write.body or {}, write.expected_revision + 1, ledger=ledger)
            for tracking_key, body in positions:
                self._reach(tracking_key, body, documents)
            documents[key] = replace(documents[key], ledger=None)
            return
        # A position's revision is read at write time: an earlier chunk of the same aggregate may have moved it.
        writes += [Write(*key, body, _revision(documents.get(key))) for key, body in positions]
        self._reads.commit(writes)
        self._seen.update(dict.fromkeys((key for key, _ in positions), next(_TICKS)))
        for write in writes:
            if write.body is None:
                documents.pop((write.collection, write.key), None)
            else:
                stored = Document(write.collection, write.key, write.body, write.expected_revision + 1)
                documents[(write.collection, write.key)] = stored
        for key, body in positions:
            if body["outbox"]:
                documents[key] = self.flush(documents[key])

    def _tracked_progress(self, aggregate: str, changed_after: Callable[[int], list[DocumentKey]]) -> tuple[int, bool]:
        """The position in one aggregate ("Type#id") and whether an outbox is unsent, ledgers included.

        `changed_after` names the documents the aggregate's events after a version change: a position beyond
        the tracking item can only be in the ledger of one of them.
        """
        tracking = self._reads.get(self.tracking_collection, aggregate)
        version, unsent = (_version(tracking), bool(tracking.body.get("outbox"))) if tracking else (0, False)
        keys = changed_after(version)
        for document in self._reads.get_many(keys).values() if keys else []:
            entry = (document.ledger or {}).get(aggregate)
            if entry is not None and int(entry["version"]) > version:
                version, unsent = int(entry["version"]), bool(entry["outbox"])
        return version, unsent


def _version(tracking: Document | None) -> int:
    return int(tracking.body["version"]) if tracking else 0


def _revision(document: Document | None) -> int:
    return document.revision if document else 0
