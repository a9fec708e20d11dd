"""Where the dispatcher sends commits: each queued consumer's FIFO queue, and the event types it reacts to.

The stack writes them into the dispatcher's environment (infra/streams.py), as the local stack does
(horizon/local/fanout.py); the dispatcher reads them on first use (horizon/dynamodb/fanout.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from horizon.projection import EventTypes

FANOUT_QUEUES = "FANOUT_QUEUES"
"""The dispatcher's environment variable: a JSON array of every queued consumer's route, as `Route.as_json` writes
it. The stack sets it from each consumer's queue and declared types (infra/streams.py), as the local stack does."""


@dataclass(frozen=True)
class Route:
    """One queued consumer, as the dispatcher sees it: its queue, and the event types it reacts to."""

    consumer: str
    queue_url: str
    reacts_to: EventTypes = None
    """None: every type."""

    def as_json(self) -> dict[str, Any]:
        """The route as `FANOUT_QUEUES` holds it."""
        types = None if self.reacts_to is None else sorted(self.reacts_to)
        return {"consumer": self.consumer, "queue_url": self.queue_url, "reacts_to": types}


def dispatcher_environment(routes: Iterable[Route]) -> dict[str, str]:
    """The dispatcher's environment naming these routes."""
    return {FANOUT_QUEUES: json.dumps([route.as_json() for route in routes], separators=(",", ":"))}


def routes_of(value: str | None) -> tuple[Route, ...]:
    """The routes a `FANOUT_QUEUES` value names; unset, the dispatcher has none to send to."""
    if value is None:
        raise LookupError(f"the fan-out function needs {FANOUT_QUEUES}, the queues it sends commits to")
    try:
        routes = [
            Route(str(entry["consumer"]), str(entry["queue_url"]), _types(entry["reacts_to"]))
            for entry in json.loads(value)
        ]
    except (ValueError, TypeError, KeyError) as error:
        # Loudly: the stack writes this value, so anything else is a broken deployment, not a reason to guess.
        raise ValueError(f"{FANOUT_QUEUES} must be a JSON array of routes, not {value!r}") from error
    return tuple(routes)


def _types(value: Any) -> EventTypes:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(kind, str) for kind in value):
        raise TypeError(f"event types must be a list of strings, not {value!r}")
    return frozenset(value)
