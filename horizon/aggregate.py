"""Aggregates: decide with `handle`, evolve with `apply`, rebuilt by replaying their events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar
from uuid import UUID

from horizon.commands import Command
from horizon.errors import DomainError
from horizon.events import EventData


class Aggregate(ABC):
    """Base class for a consistency boundary; subclasses hold state and enforce its rules."""

    aggregate_type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "aggregate_type" not in cls.__dict__:
            cls.aggregate_type = cls.__name__

    def __init__(self, aggregate_id: UUID) -> None:
        self.id = aggregate_id
        self.version = 0

    @property
    def exists(self) -> bool:
        """True once the aggregate has at least one event."""
        return self.version > 0

    @abstractmethod
    def handle(self, command: Command) -> Sequence[EventData]:
        """Return the events the command causes (none for a no-op), or raise DomainError to reject it."""

    @abstractmethod
    def apply(self, event: EventData) -> None:
        """Evolve in-memory state by one event; never fails and never decides."""

    def reject(self, message: str) -> DomainError:
        """Build a DomainError that names this aggregate, for `raise self.reject(...)`."""
        return DomainError(message, aggregate_type=self.aggregate_type, aggregate_id=self.id)
