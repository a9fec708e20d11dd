"""Upcasting: rewrite a stored event payload, one schema version at a time, into what today's code reads.

An upcaster is a small pure function registered per (event type, from-version). It gets the payload (a copy)
and returns either the payload of the next version of the same type, or a list of `RawEvent`s, which renames
the type (one item) or splits the event (several). The chain repeats until each result is at its type's
current schema version. See docs/evolution.md for the rules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_STEPS = 100
"""A chain longer than this is a cycle in the registered upcasters, not a long history."""


@dataclass(frozen=True)
class RawEvent:
    """An event payload as stored, or as an upcaster rewrote it: type name, schema version, data."""

    type: str
    schema_version: int
    data: Mapping[str, Any] = field(default_factory=dict)


Upcaster = Callable[[dict[str, Any]], "dict[str, Any] | Sequence[RawEvent]"]
"""payload at version v → payload at v + 1 of the same type, or RawEvents (renamed type, split event)."""


class CannotUpcast(ValueError):
    """No way forward for a stored payload: an unknown type, a missing upcaster, or a version from the future."""


def upcast(raw: RawEvent, upcasters: Mapping[tuple[str, int], Upcaster], current: Mapping[str, int]) -> list[RawEvent]:
    """Chain upcasters until every resulting event is at its type's current version (`current[type]`)."""
    pending, done = [raw], list[RawEvent]()
    for _ in range(MAX_STEPS):
        if not pending:
            return done
        event = pending.pop(0)
        target = current.get(event.type)
        if target == event.schema_version:
            done.append(event)
            continue
        step = upcasters.get((event.type, event.schema_version))
        if step is None:
            if target is None:
                raise CannotUpcast(f"event type {event.type!r} is not registered and has no upcaster")
            raise CannotUpcast(f"no upcaster from {event.type} v{event.schema_version} (the code reads v{target})")
        result = step(copy.deepcopy(dict(event.data)))
        if isinstance(result, Mapping):
            pending.insert(0, RawEvent(event.type, event.schema_version + 1, result))
        else:
            pending[:0] = list(result)
    raise CannotUpcast(f"more than {MAX_STEPS} upcasting steps from {raw.type} v{raw.schema_version}: a cycle?")


def add_field(name: str, default: Any) -> Upcaster:
    """An upcaster that adds a field with a default (for a field the new version requires)."""

    def step(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, name: copy.deepcopy(default)} if name not in data else data

    return step


def rename_field(old: str, new: str) -> Upcaster:
    """An upcaster that renames a field, keeping its value."""

    def step(data: dict[str, Any]) -> dict[str, Any]:
        return {new if key == old else key: value for key, value in data.items()}

    return step


def rename_type(new_type: str, schema_version: int = 1) -> Upcaster:
    """An upcaster that renames the event type; the payload continues as `new_type` at `schema_version`."""

    def step(data: dict[str, Any]) -> list[RawEvent]:
        return [RawEvent(new_type, schema_version, data)]

    return step


def split(*parts: Callable[[dict[str, Any]], RawEvent]) -> Upcaster:
    """An upcaster that replaces one event by several, each built from the old payload by one function."""

    def step(data: dict[str, Any]) -> list[RawEvent]:
        return [part(data) for part in parts]

    return step
