"""Errors every adapter and entry point agrees on.

Each error names the aggregate and the operation, so a log line or a problem response explains itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from horizon.eventstore import Head


class HorizonError(Exception):
    """Base class for every error Horizon raises on purpose."""


class DomainError(HorizonError):
    """A command was rejected by a domain rule (answers 409)."""

    def __init__(self, message: str, *, aggregate_type: str = "", aggregate_id: UUID | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id


class AggregateNotFound(HorizonError):
    """A command or query named an aggregate that has no events (answers 404)."""

    def __init__(self, aggregate_type: str, aggregate_id: UUID, operation: str) -> None:
        super().__init__(f"{operation}: {aggregate_type} {aggregate_id} does not exist")
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id
        self.operation = operation


class ConcurrencyError(HorizonError):
    """Another writer appended to the aggregate after we loaded it (retry from a fresh load, or from `head`).

    `head` is the winner's head when the store learned it from the failed write itself, so a retry needs no read.
    """

    def __init__(
        self, aggregate_type: str, aggregate_id: UUID, expected: int, actual: int | None, head: Head | None = None
    ) -> None:
        seen = "unknown" if actual is None else str(actual)
        super().__init__(f"append to {aggregate_type} {aggregate_id}: expected version {expected}, store is at {seen}")
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id
        self.expected = expected
        self.actual = actual
        self.head = head


class BadRequest(HorizonError, ValueError):
    """A request the caller can fix: a foreign cursor, an oversized header (answers 400)."""


class CommandIdReused(HorizonError):
    """A command id (an Idempotency-Key) that already stands for a different command (answers 422)."""


class InvalidEvents(HorizonError):
    """An append broke the event store rules (mixed aggregates, non-consecutive versions, empty, too large)."""


class ReadModelConflict(HorizonError):
    """A read-model document changed between our read and our conditional write (retry the record)."""


class UnreadableHistory(HorizonError):
    """A stored event today's code cannot read (an unregistered type, a missing or failing upcaster).

    An operational error, not the caller's: it answers 500 and is logged at ERROR, never 404 or 409.
    """

    def __init__(
        self,
        *,
        aggregate_type: str,
        aggregate_id: UUID,
        version: int,
        event_type: str,
        schema_version: int,
        reason: str,
    ) -> None:
        super().__init__(
            f"read {aggregate_type} {aggregate_id}: the event at version {version} "
            f"({event_type}, schema v{schema_version}) cannot be read: {reason}"
        )
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id
        self.version = version
        self.event_type = event_type
        self.schema_version = schema_version
        self.reason = reason

    def facts(self) -> dict[str, str | int]:
        """The facts a problem response and a log line both carry."""
        return {
            "aggregate_type": self.aggregate_type,
            "aggregate_id": str(self.aggregate_id),
            "version": self.version,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
        }


class VersionNotFound(HorizonError):
    """A version (or time) past the end of, or before the start of, an aggregate's history (answers 404)."""

    def __init__(self, aggregate_type: str, aggregate_id: UUID, operation: str, asked: str, current: int) -> None:
        where = f"{operation}: {aggregate_type} {aggregate_id}"
        super().__init__(f"{where} has no {asked}; its current version is {current}")
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id
        self.current_version = current


class Throttled(HorizonError):
    """DynamoDB kept throttling after every retry, or other requests kept winning one item, such as an
    Idempotency-Key's record (answers 503 with Retry-After)."""
