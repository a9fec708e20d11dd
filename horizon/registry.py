"""The registry: which commands and events exist, and which aggregate owns them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from horizon.aggregate import Aggregate
from horizon.commands import Command
from horizon.errors import HorizonError, InvalidEvents, UnreadableHistory
from horizon.events import Event, EventData
from horizon.upcasting import CannotUpcast, RawEvent, Upcaster, upcast


class UnknownType(HorizonError, LookupError):
    """A command, event or aggregate type name that no one registered (answers 404)."""


@dataclass(frozen=True)
class CommandBinding:
    """A command model bound to the aggregate that handles it."""

    model: type[Command]
    aggregate: type[Aggregate]
    creates: bool


class Registry:
    """Maps wire names to models; built once in a composition root, never at import time."""

    def __init__(self) -> None:
        self._commands: dict[str, CommandBinding] = {}
        self._events: dict[str, type[EventData]] = {}
        self._aggregates: dict[str, type[Aggregate]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._versions: dict[str, int] = {}
        self._fields: dict[str, frozenset[str]] = {}
        self._owners: dict[str, type[Aggregate]] = {}

    def register(
        self,
        aggregate: type[Aggregate],
        *,
        creates: Iterable[type[Command]],
        commands: Iterable[type[Command]],
        events: Iterable[type[EventData]],
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> Registry:
        """Bind creating commands, other commands, event types and their upcasters to one aggregate type.

        `upcasters` maps (stored event type, from schema version) to the function that moves it one step on.
        """
        if aggregate.aggregate_type in self._aggregates:
            raise ValueError(f"aggregate type {aggregate.aggregate_type} is registered twice")
        self._aggregates[aggregate.aggregate_type] = aggregate
        for model, creating in [(c, True) for c in creates] + [(c, False) for c in commands]:
            self._add_command(CommandBinding(model, aggregate, creating))
        for event in events:
            if event.event_type in self._events:
                raise ValueError(f"event type {event.event_type} is registered twice")
            self._events[event.event_type] = event
            self._owners[event.event_type] = aggregate
            self._versions[event.event_type] = event.schema_version
        for key, upcaster in (upcasters or {}).items():
            if key in self._upcasters:
                raise ValueError(f"an upcaster from {key[0]} v{key[1]} is registered twice")
            self._upcasters[key] = upcaster
        return self

    def _add_command(self, binding: CommandBinding) -> None:
        name = binding.model.command_type
        if name in self._commands:
            raise ValueError(f"command type {name} is registered twice")
        self._commands[name] = binding

    @property
    def commands(self) -> dict[str, CommandBinding]:
        """Every registered command by wire name, in registration order."""
        return dict(self._commands)

    @property
    def aggregate_types(self) -> dict[str, type[Aggregate]]:
        """Every registered aggregate class by type name."""
        return dict(self._aggregates)

    @property
    def event_types(self) -> dict[str, type[EventData]]:
        """Every registered event model by type name (retired ones included)."""
        return dict(self._events)

    @property
    def upcasters(self) -> list[tuple[str, int]]:
        """The (event type, from schema version) of every registered upcaster."""
        return list(self._upcasters)

    def binding(self, command: type[Command] | str) -> CommandBinding:
        """The binding for a command class or wire name; UnknownType if there is none."""
        name = command if isinstance(command, str) else command.command_type
        try:
            return self._commands[name]
        except KeyError:
            raise UnknownType(f"unknown command type {name!r}") from None

    def aggregate(self, aggregate_type: str) -> type[Aggregate]:
        """The aggregate class for a type name; UnknownType if there is none."""
        try:
            return self._aggregates[aggregate_type]
        except KeyError:
            raise UnknownType(f"unknown aggregate type {aggregate_type!r}") from None

    def owner(self, event_type: str) -> type[Aggregate]:
        """The aggregate class that registered an event type; UnknownType if none did."""
        try:
            return self._owners[event_type]
        except KeyError:
            raise UnknownType(f"unknown event type {event_type!r}") from None

    def encode(self, data: EventData) -> dict[str, Any]:
        """The envelope fields (type, schema_version, data) of a new event; refuses unregistered and retired types."""
        registered = self._events.get(data.event_type)
        if registered is not type(data):
            raise InvalidEvents(f"emit {data.event_type}: the event type is not registered")
        if registered.retired:
            raise InvalidEvents(f"emit {data.event_type}: the event type is retired (readable, never emitted)")
        return {"type": data.event_type, "schema_version": data.schema_version, "data": data.model_dump(mode="json")}

    def decode(self, event: Event) -> list[EventData]:
        """Today's typed payloads of a stored event (upcast, fields the model dropped ignored).

        Usually one; an upcaster that splits an event yields several. Raises UnreadableHistory when the history
        cannot be read: an unknown type, a missing or failing upcaster, or a payload that still does not validate.
        """
        try:
            if self._versions.get(event.type) == event.schema_version:
                return [self._read(event.type, event.data)]  # the common case: stored at today's version
            raws = upcast(RawEvent(event.type, event.schema_version, event.data), self._upcasters, self._versions)
            return [self._read(raw.type, raw.data) for raw in raws]
        except Exception as error:
            reason = str(error) if isinstance(error, CannotUpcast) else f"{type(error).__name__}: {error}"
            raise UnreadableHistory(
                aggregate_type=event.aggregate_type,
                aggregate_id=event.aggregate_id,
                version=event.version,
                event_type=event.type,
                schema_version=event.schema_version,
                reason=reason,
            ) from error

    def _read(self, event_type: str, data: Mapping[str, Any]) -> EventData:
        model = self._events[event_type]
        fields = self._fields.get(event_type)
        if fields is None:
            fields = self._fields[event_type] = frozenset(model.model_fields)
        # Reading is tolerant: a field the model no longer has must not brick the aggregate.
        return model.model_validate(data if data.keys() <= fields else {k: v for k, v in data.items() if k in fields})
