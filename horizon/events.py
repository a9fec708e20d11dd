"""Events: a typed payload (`EventData`) inside a versioned envelope (`Event`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """The payload of one event type; subclasses add fields. Past tense names: `InviteAccepted`.

    Writing is strict (unknown fields are refused); reading old events goes through `Registry.decode`, which
    upcasts them to `schema_version` and drops fields the model no longer has. See docs/evolution.md.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    """Raise it (and register an upcaster from the old version) whenever a stored payload would not validate."""
    retired: ClassVar[bool] = False
    """A retired type stays readable in old histories, but the command handler refuses to emit it."""
    claims: ClassVar[Mapping[str, str]] = {}
    """Unique values this event claims: scope → the field holding the value (horizon/uniqueness.py)."""
    releases: ClassVar[tuple[str, ...]] = ()
    """Scopes whose claim of this aggregate this event gives up."""
    forgets_subject: ClassVar[bool] = False
    """True for an event that records a forget: storing it deletes its aggregate's data key (docs/privacy.md)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            cls.event_type = cls.__name__


class Metadata(BaseModel):
    """Where an event came from: the request that started it all, what caused it, which command, and who sent it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    correlation_id: str
    causation_id: str
    command: str
    command_id: str | None = None
    actor: dict[str, Any] | None = None
    """Who sent the command: `{"subject", "roles"}` for a client, `{"saga", "cause"}` for a saga."""


class Event(BaseModel):
    """The stored envelope: one event of one aggregate at one version."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID = Field(default_factory=uuid4)
    aggregate_type: str
    aggregate_id: UUID
    version: int = Field(ge=1)
    type: str
    schema_version: int = Field(default=1, ge=1)
    """The payload's schema version when it was written; events stored before versioning existed are 1."""
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    data: dict[str, Any] = Field(default_factory=dict)
    metadata: Metadata

    @property
    def stream(self) -> tuple[str, UUID]:
        """The (aggregate_type, aggregate_id) pair that orders this event."""
        return (self.aggregate_type, self.aggregate_id)
