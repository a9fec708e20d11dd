"""The runtime of one projector: its read models, in the live generation or a rebuild's."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from horizon.commands import Command
from horizon.consumers.tracked import TrackedConsumer
from horizon.events import Event, EventData
from horizon.eventstore import EventStore
from horizon.generations import GENERATIONS, POINTER_TTL_SECONDS, collection_of
from horizon.projection import Projector
from horizon.readstore import Document, ReadStore
from horizon.registry import Registry
from horizon.stream_batches import Stream, Vouched


class ProjectorRuntime(TrackedConsumer):
    """Runs one projector; its read models live in the collection named after it."""

    def __init__(
        self,
        projector: Projector[Any],
        registry: Registry,
        reads: ReadStore,
        events: EventStore,
        *,
        generation: int | None = None,
    ) -> None:
        super().__init__(projector.name, registry, reads, events)
        self.projector = projector
        self.model = projector.model
        self.reacts_to = projector.reacts_to
        self.tracks_in_documents = projector.per_aggregate
        self._follows = generation is None
        self._resolved_at = float("-inf")
        """Without a fixed generation, the runtime writes the live one (horizon/generations.py)."""
        if generation is not None:
            self.name = collection_of(projector.name, generation)

    def for_generation(self, generation: int) -> ProjectorRuntime:
        """The same projector, writing one fixed generation (a rebuild's) instead of the live one."""
        return ProjectorRuntime(self.projector, self._registry, self._reads, self._events, generation=generation)

    @property
    def reads(self) -> ReadStore:
        """The read store its generations and their pointer live in."""
        return self._reads

    def process_batch(
        self, commits: Sequence[Sequence[Event]], vouched: Vouched | None = None
    ) -> dict[Stream, Exception]:
        """Apply a batch of commits to the live generation (or the fixed one of a rebuild)."""
        self._resolve()
        return super().process_batch(commits, vouched)

    def unapplied(self, aggregate_type: str, aggregate_id: UUID) -> tuple[int, bool, list[Event]]:
        """The position in one aggregate of the live generation (or the fixed one), and the events after it."""
        self._resolve()
        return super().unapplied(aggregate_type, aggregate_id)

    def _resolve(self) -> None:
        follow_live([self])

    def _pointer_is_stale(self, now: float) -> bool:
        return self._follows and now - self._resolved_at >= POINTER_TTL_SECONDS

    def _follow(self, pointer: Document | None, now: float) -> None:
        self._resolved_at = now
        self.name = collection_of(self.projector.name, int(pointer.body["live"]) if pointer else 0)

    def key_of(self, event: Event) -> str | None:
        """The read model an event changes, if any."""
        return self.projector.document_key(event)

    def step(self, current: Any, event: Event, data: EventData) -> tuple[BaseModel | None, Sequence[Command]]:
        """Project one event into its read model; projectors send no commands."""
        return self.projector.project(current, event, data), ()


def follow_live(runtimes: Sequence[ProjectorRuntime]) -> None:
    """Point every runtime that follows the live generation, and has not read its pointer for POINTER_TTL_SECONDS,
    at the generation its pointer names: one read for all of them, so a projector function's cold batch pays
    one pointer read, not one per projector."""
    now = time.monotonic()
    stale: dict[int, list[ProjectorRuntime]] = {}
    for runtime in runtimes:
        if runtime._pointer_is_stale(now):
            stale.setdefault(id(runtime.reads), []).append(runtime)
    for group in stale.values():
        # Possibly stale: a batch that lands in the old generation is caught up by the rebuild's last pass.
        pointers = group[0].reads.peek_many([(GENERATIONS, runtime.projector.name) for runtime in group])
        for runtime in group:
            runtime._follow(pointers.get((GENERATIONS, runtime.projector.name)), now)
