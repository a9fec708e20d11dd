"""Plain-text and JSON renderings of events, states and state differences."""

from __future__ import annotations

import json
from typing import Any

from horizon.events import Event

ARROW = "→"


def event_line(event: Event, *, with_stream: bool = False) -> str:
    """One readable line: version, time, type, payload, and the command and correlation that caused it."""
    stream = f"{event.aggregate_type} {event.aggregate_id} " if with_stream else ""
    schema = f"@{event.schema_version}" if event.schema_version != 1 else ""
    cause = f"{event.metadata.command}, correlation {event.metadata.correlation_id}"
    stamp = event.timestamp.isoformat(timespec="milliseconds")
    return f"{stream}v{event.version:<4} {stamp}  {event.type}{schema}  {_compact(event.data)}  ({cause})"


def event_json(event: Event) -> str:
    """One JSON line: the stored envelope."""
    return event.model_dump_json()


def state_document(aggregate_type: str, aggregate_id: str, version: int, state: dict[str, Any]) -> dict[str, Any]:
    """The same shape as GET /aggregates/{type}/{id}."""
    return {"aggregate_type": aggregate_type, "aggregate_id": aggregate_id, "version": version, "state": state}


def state_lines(document: dict[str, Any]) -> list[str]:
    """A heading and one `field  value` line per (flattened) field of the state."""
    flat = flatten(document["state"])
    width = max((len(key) for key in flat), default=0)
    heading = f"{document['aggregate_type']} {document['aggregate_id']} at version {document['version']}"
    return [heading, *(f"  {key:<{width}}  {_compact(value)}" for key, value in flat.items())]


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every flattened field whose value differs, as {"from": old, "to": new} (missing values are null)."""
    old, new = flatten(before), flatten(after)
    return {
        key: {"from": old.get(key), "to": new.get(key)}
        for key in sorted(old.keys() | new.keys(), key=lambda k: (k not in old, k))
        if old.get(key) != new.get(key) or (key in old) != (key in new)
    }


def diff_lines(heading: str, changes: dict[str, dict[str, Any]]) -> list[str]:
    """A heading and one `field  old → new` line per change."""
    if not changes:
        return [heading, "  no changes"]
    width = max(len(key) for key in changes)
    return [
        heading,
        *(f"  {k:<{width}}  {_compact(c['from'])} {ARROW} {_compact(c['to'])}" for k, c in changes.items()),
    ]


def flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys ({"a": {"b": 1}} → {"a.b": 1}); lists stay whole."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            flat.update(flatten(item, f"{name}."))
        else:
            flat[name] = item
    return flat


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
