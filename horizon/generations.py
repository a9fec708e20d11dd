"""Generations of a projection's read models, so a rebuild never shows a half-built model.

A projection's documents live in the collection named after it (generation 0) or `<name>@<n>`. A pointer
document (`_generations/<name>`) says which generation is live. A rebuild catches generation n+1 up from the
events table next to the live one (which keeps serving and following the stream), switches the pointer in one
conditional write, catches up once more (a stream batch that read the old pointer may have landed in the old
generation), then deletes the old generation. Readers resolve the pointer, then read. Saga state, outboxes and
saga positions never live in generations: rebuilding a saga is refused (docs/delivery.md, "Rebuild").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from horizon.errors import BadRequest
from horizon.readstore import ReadStore, Write

GENERATIONS = "_generations"
POINTER_TTL_SECONDS = 10.0
"""How long a stream runtime trusts the pointer it read (so a batch costs no extra read); a rebuild waits this
long after the switch before its last pass, which catches up whatever a runtime still wrote to the old one."""
READER_GRACE_SECONDS = 30.0
"""How long a reader may hold an old pointer (an API request's limit) before the old generation is deleted."""


def collection_of(name: str, generation: int) -> str:
    """The collection of one generation of a projection (generation 0 keeps the plain name)."""
    return name if generation == 0 else f"{name}@{generation}"


def live_generation(reads: ReadStore, name: str) -> int:
    """The generation readers and the stream use now (0 when the projection was never rebuilt)."""
    pointer = reads.get(GENERATIONS, name)
    return int(pointer.body["live"]) if pointer else 0


def live_collection(reads: ReadStore, name: str) -> str:
    """Where a reader finds a projection's documents now (a possibly stale pointer: the old generation outlives
    the switch by READER_GRACE_SECONDS, so a reader that still follows it reads a whole model)."""
    pointer = reads.peek_many([(GENERATIONS, name)]).get((GENERATIONS, name))
    return collection_of(name, int(pointer.body["live"]) if pointer else 0)


def rebuild(
    runtime_for: Callable[[int], Any],
    reads: ReadStore,
    name: str,
    *,
    segments: int = 1,
    sleep: Callable[[float], None] = time.sleep,
    grace: float = READER_GRACE_SECONDS,
    settle: float = POINTER_TTL_SECONDS,
) -> int:
    """Build the next generation of projection `name` with the runtime `runtime_for(generation)`; return it."""
    from horizon.catchup import catch_up

    pointer = reads.get(GENERATIONS, name)
    live = int(pointer.body["live"]) if pointer else 0
    new = live + 1
    _delete(reads, collection_of(name, new))  # the leftovers of a rebuild that stopped half way
    runtime = runtime_for(new)
    for attempt in range(2):  # the second pass: commits the stream gave the old generation after the switch
        if attempt:
            sleep(settle)
        failed: dict[str, str] = {}
        for segment in range(segments):
            failed |= catch_up(runtime, segment, segments).failed
        if failed:
            raise BadRequest(f"rebuild {name}: generation {new} failed on {len(failed)} aggregates: {failed}")
        if live_generation(reads, name) != new:  # one conditional write switches readers and the stream
            reads.commit([Write(GENERATIONS, name, {"live": new}, pointer.revision if pointer else 0)])
    sleep(grace)
    _delete(reads, collection_of(name, live))
    return new


def _delete(reads: ReadStore, collection: str) -> None:
    for target in (collection, f"_tracking.{collection}"):
        while True:
            page = reads.list(target, 100)
            if not page.items:
                break
            reads.commit([Write(target, d.key, None, d.revision) for d in page.items])
