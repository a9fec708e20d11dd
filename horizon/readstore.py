"""The read store port: JSON documents in named collections, each with a revision for conditional writes.

Projectors, saga state and consumer tracking positions all live here, so one conditional commit can move a read
model and its tracking position together: that is what makes redelivered stream records harmless.
"""

from __future__ import annotations

import base64
import binascii
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from horizon.errors import BadRequest

DocumentKey = tuple[str, str]
"""(collection, key)"""


class InvalidCursor(BadRequest):
    """A page cursor that this store did not hand out (answers 400)."""


@dataclass(frozen=True)
class Document:
    """One stored document; `revision` counts its writes and is 0 only for a document not yet stored."""

    collection: str
    key: str
    body: dict[str, Any]
    revision: int
    position: int | None = None
    """The version of the one aggregate this document follows, when its projector tracks it here."""
    ledger: dict[str, Any] | None = None
    """Positions (and outboxes) a shared-document consumer applied in this revision and may not have recorded in
    its tracking documents yet, by tracking key (horizon/consumers/ledger.py). Never part of the body."""
    expires: int | None = None
    """When the store may delete it (epoch seconds); until then it is read as any other, and its reader decides
    what an expired document means (horizon/idempotency.py)."""


@dataclass(frozen=True)
class Write:
    """Put `body` (or delete, when None) if the document is still at `expected_revision` (0: absent)."""

    collection: str
    key: str
    body: dict[str, Any] | None
    expected_revision: int
    position: int | None = None
    """Stored beside the body (see Document.position)."""
    ledger: dict[str, Any] | None = None
    """Stored beside the body (see Document.ledger); a write without one drops the stored one."""
    expires: int | None = None
    """Stored beside the body (see Document.expires); a write without one keeps the document for good."""


@dataclass(frozen=True)
class Page:
    """A slice of a collection in key order and the cursor for the next slice (None at the end)."""

    items: list[Document]
    cursor: str | None


class ReadStore(ABC):
    """Document storage for read models, saga state and tracking positions."""

    @abstractmethod
    def get_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Document]:
        """Read several documents at once, strongly consistent; absent ones are missing from the result."""

    @abstractmethod
    def list(self, collection: str, limit: int, cursor: str | None = None) -> Page:
        """Return up to `limit` documents of a collection in key order, after `cursor`."""

    @abstractmethod
    def commit(self, writes: Sequence[Write]) -> None:
        """Apply all writes or none; raise ReadModelConflict if any document is not at its expected revision."""

    def peek_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Document]:
        """Like get_many, but possibly a little stale: only for reads that a conditional write will check."""
        return self.get_many(keys)

    def get(self, collection: str, key: str) -> Document | None:
        """Read one document, strongly consistent, or None."""
        return self.get_many([(collection, key)]).get((collection, key))


MAX_KEY_LENGTH = 1024


def encode_cursor(key: str) -> str:
    """The opaque cursor both stores hand out: the last key of a page, URL-safe."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The key a cursor stands for; InvalidCursor for anything `encode_cursor` could not have made."""
    try:
        key = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        key = ""
    if not key or len(key) > MAX_KEY_LENGTH or encode_cursor(key) != cursor:
        raise InvalidCursor(f"list: cursor {cursor[:40]!r} is not one this store handed out")
    return key


def check_limit(limit: int) -> None:
    """Both stores refuse an empty page size rather than guess what it means."""
    if limit < 1:
        raise BadRequest(f"list: limit {limit} must be at least 1")
