"""Aggregates: decide with `handle`, evolve with `apply`, rebuilt by replaying their events.

An aggregate's state is a pydantic model (`state_model`, held in `self.state`) with its own `state_version`,
so it serialises to JSON: snapshots store it, time travel shows and compares it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from horizon.authorization import Principal
from horizon.commands import Command
from horizon.errors import DomainError
from horizon.events import EventData


class NoState(BaseModel):
    """The state of an aggregate that keeps none beyond its version."""

    model_config = ConfigDict(extra="forbid")


class Aggregate(ABC):
    """Base class for a consistency boundary; subclasses hold state and enforce its rules.

    A subclass sets `state_model` (every field with a default: the state before the first event) and narrows
    `state` to it; `apply` replaces or mutates `self.state`.
    """

    aggregate_type: ClassVar[str] = ""
    state_model: ClassVar[type[BaseModel]] = NoState
    state_version: ClassVar[int] = 1
    """Raise it whenever a stored snapshot of the old state model would not mean the same thing any more."""

    state: BaseModel

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "aggregate_type" not in cls.__dict__:
            cls.aggregate_type = cls.__name__

    def __init__(self, aggregate_id: UUID) -> None:
        self.id = aggregate_id
        self.version = 0
        self.state = self.state_model()

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

    def owned_by(self, principal: Principal) -> bool:
        """Whether `principal` owns this aggregate, for audiences with owner roles; by default nobody does.

        Called on opened (decrypted) state, after the load and before any decision.
        """
        return False

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data (without the id, the version or `state_version`)."""
        return self.state.model_dump(mode="json")

    def restore(self, state: dict[str, Any]) -> None:
        """Set the state from a `snapshot()` of the same `state_version`; ValueError for one it could not have written.

        (pydantic's ValidationError is a ValueError.)
        """
        fields = set(self.state_model.model_fields)
        if set(state) != fields:
            raise ValueError(f"restore {self.aggregate_type} {self.id}: fields {sorted(state)} != {sorted(fields)}")
        self.state = self.state_model.model_validate(state)

    def reject(self, message: str) -> DomainError:
        """Build a DomainError that names this aggregate, for `raise self.reject(...)`."""
        return DomainError(message, aggregate_type=self.aggregate_type, aggregate_id=self.id)
