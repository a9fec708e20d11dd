"""The registry: which commands and events exist, and which aggregate owns them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from horizon.aggregate import Aggregate
from horizon.commands import Command
from horizon.errors import HorizonError
from horizon.events import Event, EventData


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

    def register(
        self,
        aggregate: type[Aggregate],
        *,
        creates: Iterable[type[Command]],
        commands: Iterable[type[Command]],
        events: Iterable[type[EventData]],
    ) -> Registry:
        """Bind creating commands, other commands and event types to one aggregate type."""
        if aggregate.aggregate_type in self._aggregates:
            raise ValueError(f"aggregate type {aggregate.aggregate_type} is registered twice")
        self._aggregates[aggregate.aggregate_type] = aggregate
        for model, creating in [(c, True) for c in creates] + [(c, False) for c in commands]:
            self._add_command(CommandBinding(model, aggregate, creating))
        for event in events:
            if event.event_type in self._events:
                raise ValueError(f"event type {event.event_type} is registered twice")
            self._events[event.event_type] = event
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

    def decode(self, event: Event) -> EventData:
        """The typed payload of a stored event; UnknownType if its type was never registered."""
        try:
            model = self._events[event.type]
        except KeyError:
            where = f"decode {event.aggregate_type} {event.aggregate_id} v{event.version}"
            raise UnknownType(f"{where}: unknown event type {event.type!r}") from None
        return model.model_validate(event.data)
