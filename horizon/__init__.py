"""Horizon: CQRS and event sourcing for Python, serverless on AWS.

The root modules are the framework's small interfaces; adapters live beside them (`horizon.memory`,
`horizon.dynamodb`, `horizon.http`, `horizon.local`). Names are exported lazily, so `import horizon` costs
nothing until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from horizon.aggregate import Aggregate
    from horizon.command_handler import CommandContext, CommandHandler, CommandResult
    from horizon.commands import Command
    from horizon.consumers import ProjectorRuntime, SagaRuntime
    from horizon.errors import (
        AggregateNotFound,
        BadRequest,
        CommandIdReused,
        ConcurrencyError,
        DomainError,
        HorizonError,
        InvalidEvents,
        ReadModelConflict,
    )
    from horizon.events import Event, EventData, Metadata
    from horizon.eventstore import EventStore
    from horizon.projection import Projector, Saga
    from horizon.readstore import Document, Page, ReadStore, Write
    from horizon.registry import Registry, UnknownType

_EXPORTS = {
    "Aggregate": "horizon.aggregate",
    "Command": "horizon.commands",
    "CommandContext": "horizon.command_handler",
    "CommandHandler": "horizon.command_handler",
    "CommandResult": "horizon.command_handler",
    "ProjectorRuntime": "horizon.consumers",
    "SagaRuntime": "horizon.consumers",
    "AggregateNotFound": "horizon.errors",
    "BadRequest": "horizon.errors",
    "CommandIdReused": "horizon.errors",
    "ConcurrencyError": "horizon.errors",
    "DomainError": "horizon.errors",
    "HorizonError": "horizon.errors",
    "InvalidEvents": "horizon.errors",
    "ReadModelConflict": "horizon.errors",
    "Event": "horizon.events",
    "EventData": "horizon.events",
    "Metadata": "horizon.events",
    "EventStore": "horizon.eventstore",
    "Projector": "horizon.projection",
    "Saga": "horizon.projection",
    "Document": "horizon.readstore",
    "Page": "horizon.readstore",
    "ReadStore": "horizon.readstore",
    "Write": "horizon.readstore",
    "Registry": "horizon.registry",
    "UnknownType": "horizon.registry",
}

__all__ = [
    "Aggregate",
    "AggregateNotFound",
    "BadRequest",
    "Command",
    "CommandContext",
    "CommandHandler",
    "CommandIdReused",
    "CommandResult",
    "ConcurrencyError",
    "Document",
    "DomainError",
    "Event",
    "EventData",
    "EventStore",
    "HorizonError",
    "InvalidEvents",
    "Metadata",
    "Page",
    "Projector",
    "ProjectorRuntime",
    "ReadModelConflict",
    "ReadStore",
    "Registry",
    "Saga",
    "SagaRuntime",
    "UnknownType",
    "Write",
]


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'horizon' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)
