"""Splitting a stream batch into groups of aggregates whose writes fit one DynamoDB transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from horizon.events import Event
from horizon.readstore import DocumentKey

MAX_ACTIONS = 100
"""DynamoDB's TransactWriteItems cap: a group's documents and tracking positions fit one transaction."""

MAX_GROUP_BYTES = 2_000_000
"""Well under the 4 MB transaction cap, counting the commits' envelopes as a stand-in for the documents."""

Stream = tuple[str, UUID]
"""(aggregate type, id): the unit of ordering."""


def group_runs(
    runs: dict[Stream, list[Event]], needs: Callable[[Sequence[Event]], list[DocumentKey]]
) -> list[dict[Stream, list[Event]]]:
    """Aggregates' runs of events in stream order, grouped so each group's documents (`needs`) fit one write."""
    groups: list[dict[Stream, list[Event]]] = [{}]
    keys: set[DocumentKey] = set()
    size = 0
    for stream, run in runs.items():
        needed = set(needs(run))
        weight = sum(len(event.model_dump_json()) for event in run)
        if groups[-1] and (len(keys | needed) > MAX_ACTIONS or size + weight > MAX_GROUP_BYTES):
            groups.append({})
            keys, size = set(), 0
        groups[-1][stream] = run
        keys |= needed
        size += weight
    return groups
