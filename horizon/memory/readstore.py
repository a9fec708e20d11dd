"""A read store in a dict, with the same revision checks and cursors as the DynamoDB one."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence

from horizon.errors import ReadModelConflict
from horizon.readstore import Document, DocumentKey, Page, ReadStore, Write, check_limit, decode_cursor, encode_cursor


class MemoryReadStore(ReadStore):
    """Thread-safe in-memory read store; bodies are deep-copied so callers cannot mutate stored state."""

    def __init__(self) -> None:
        self._docs: dict[DocumentKey, Document] = {}
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Document]:
        """Read several documents at once, strongly consistent; absent ones are missing from the result."""
        with self._lock:
            return {key: copy.deepcopy(self._docs[key]) for key in keys if key in self._docs}

    def list(self, collection: str, limit: int, cursor: str | None = None) -> Page:
        """Return up to `limit` documents of a collection in key order, after `cursor`."""
        check_limit(limit)
        after = None if cursor is None else decode_cursor(cursor)
        with self._lock:
            keys = sorted(k for c, k in self._docs if c == collection and (after is None or k > after))
            chosen = keys[:limit]
            items = [copy.deepcopy(self._docs[(collection, k)]) for k in chosen]
        more = len(keys) > limit
        return Page(items, encode_cursor(chosen[-1]) if more and chosen else None)

    def commit(self, writes: Sequence[Write]) -> None:
        """Apply all writes or none; raise ReadModelConflict if any document is not at its expected revision."""
        with self._lock:
            for write in writes:
                current = self._docs.get((write.collection, write.key))
                revision = current.revision if current else 0
                if revision != write.expected_revision:
                    raise ReadModelConflict(
                        f"commit {write.collection}/{write.key}: expected revision {write.expected_revision}, "
                        f"found {revision}"
                    )
            for write in writes:
                key = (write.collection, write.key)
                if write.body is None:
                    self._docs.pop(key, None)
                else:
                    body = copy.deepcopy(write.body)
                    revision = write.expected_revision + 1
                    ledger = copy.deepcopy(write.ledger) or None
                    self._docs[key] = Document(
                        write.collection, write.key, body, revision, write.position, ledger, write.expires
                    )
