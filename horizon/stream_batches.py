"""Splitting a stream batch into groups of aggregates whose writes fit one DynamoDB transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from horizon.events import Event
from horizon.readstore import DocumentKey

MAX_ACTIONS = 100
"""DynamoDB's TransactWriteItems cap: a group's documents and tracking positions fit one transaction."""

MAX_GROUP_BYTES = 2_000_000
"""Well under the 4 MB transaction cap, counting the commits' envelopes as a stand-in for the documents."""

Stream = tuple[str, UUID]
"""(aggregate type, id): the unit of ordering."""

Vouched = Mapping[Stream, Mapping[int, str]]
"""Stored event types of versions a batch did not carry, by aggregate and version, as the tip that wrote the
carried commit held them (horizon/dynamodb/fanout.py): a consumer that reacts to none of them has nothing to read."""


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


@dataclass
class Transaction:
    """What one consumer write will hold: documents, positions, and an estimate of its size, kept under the caps.

    A gap repair inside one stream batch can bring hundreds of events; a projector that writes a document per
    event would then touch hundreds of documents. The runtime asks `fits` before folding each event and, when it
    does not, commits what it holds first (with the position of the last event folded), so every write stays a
    valid transaction and still carries its position: exactly once in effect, chunk by chunk.
    """

    keys: set[DocumentKey] = field(default_factory=set)
    positions: list[tuple[DocumentKey, dict[str, Any]]] = field(default_factory=list)
    size: int = 0

    def fits(self, keys: set[DocumentKey], weight: int) -> bool:
        """Whether `keys` (and one more position) can join, `weight` bytes heavier."""
        actions = len(self.keys | keys) + len(self.positions) + 1
        return actions <= MAX_ACTIONS and self.size + weight <= MAX_GROUP_BYTES

    def add(self, keys: set[DocumentKey], weight: int) -> None:
        """Documents one folded event writes, and its weight."""
        self.keys |= keys
        self.size += weight

    def clear(self) -> None:
        """Empty, after its write."""
        self.keys, self.positions, self.size = set(), [], 0
