"""A warm container's copy of the tips it last read or wrote, so a commit rewrites its tip whole.

With the old tip in hand a commit is one conditional PutItem of the new tip, built here exactly as the
UpdateItem it replaces would have left it (pending events appended, bytes added, snapshot replaced or dropped,
every other attribute kept). The condition (`version = expected`) makes the copy safe: a tip is rewritten only
by the commit that raises its version, so a tip at the expected version is the one we hold, and a stale copy
costs a lost race whose answer (ALL_OLD) is the winner's tip, never a wrong write. A PutItem costs the same
write units as that UpdateItem (both are charged the larger image), and DynamoDB evaluates no update
expression. The tips hold sealed personal fields only, never their clear text (docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from horizon.bounded_cache import BoundedCache
from horizon.dynamodb.layout import (
    BYTES,
    EVENTS,
    FIRST,
    SNAPSHOT,
    SNAPSHOT_VERSION,
    STATE_VERSION,
    VERSION,
    bodies_of,
    packed,
)
from horizon.eventstore import Snapshot

_ITEM_OVERHEAD = 256
"""Bytes charged per tip on top of its strings: keys, numbers and attribute names, roughly."""


class TipCache(BoundedCache[str, dict[str, Any]]):
    """Stream key → the tip item as last read or written; bounded like the aggregate cache."""

    def remember(self, tip: dict[str, Any]) -> None:
        """Keep `tip` (a whole item, as DynamoDB holds it) under its stream key."""
        self.put(tip["pk"]["S"], tip, _ITEM_OVERHEAD + len(repr(tip)))


def version_of(tip: dict[str, Any]) -> int:
    """The version a tip item stands at."""
    return int(tip[VERSION]["N"])


def tip_condition(expected: int) -> dict[str, Any]:
    """The condition of every tip write: no tip yet (`expected` 0), or the tip still at `expected`."""
    if expected == 0:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "#v = :expected",
        "ExpressionAttributeNames": {"#v": VERSION},
        "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
    }


def with_snapshot(tip: dict[str, Any], snapshot: Snapshot | None, version: int) -> dict[str, Any]:
    """`tip` holding `snapshot` (taken at `version`), or no snapshot at all."""
    tip = {name: value for name, value in tip.items() if name not in (SNAPSHOT, STATE_VERSION, SNAPSHOT_VERSION)}
    if snapshot is not None:
        tip |= {
            SNAPSHOT: {"S": snapshot.state},
            STATE_VERSION: {"N": str(snapshot.state_version)},
            SNAPSHOT_VERSION: {"N": str(version)},
        }
    return tip


def appended(
    old: dict[str, Any], version: int, bodies: Sequence[str], size: int, snapshot: Snapshot | None
) -> dict[str, Any]:
    """The tip after a commit of `bodies` (`size` bytes) up to `version` is appended to its pending events."""
    first = version_of(old) + 1
    tip = old | {
        VERSION: {"N": str(version)},
        FIRST: {"N": str(first)},
        EVENTS: packed([*bodies_of(old), *bodies]),
        BYTES: {"N": str(int(old.get(BYTES, {}).get("N", "0")) + size)},
    }
    return with_snapshot(tip, snapshot, version)
