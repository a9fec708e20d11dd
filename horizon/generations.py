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
from dataclasses import dataclass
from typing import Any

from horizon.errors import BadRequest
from horizon.readstore import Document, ReadStore, Write

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


_LAST_LIVE: dict[str, int] = {}
"""The live generation this process last found for each projection: only a guess of where a document is, which
the pointer read beside it confirms (a wrong guess costs one more read, never a wrong answer)."""


def read_live(reads: ReadStore, name: str, key: str) -> Document | None:
    """One document of a projection's live generation, strongly consistent, or None. The pointer and the
    document of the generation last found live are read in one request; only when the pointer names another
    generation (a rebuild switched it) is that generation's document read after it."""
    guess = _LAST_LIVE.get(name, 0)
    pointer_key, guessed = (GENERATIONS, name), (collection_of(name, guess), key)
    found = reads.get_many([pointer_key, guessed])
    pointer = found.get(pointer_key)
    live = _LAST_LIVE[name] = int(pointer.body["live"]) if pointer else 0
    return found.get(guessed) if live == guess else reads.get(collection_of(name, live), key)


PURGE_LIMIT = 1_000
"""Documents one purge step deletes at most (ten transactions of 100): a step, and a Lambda, stays short however
large the old generation is; the state machine loops on the step while `purge` says more remain."""


@dataclass(frozen=True)
class Opened:
    """A rebuild's start: the live generation, the one to build, and the pointer revision the switch expects."""

    live: int
    generation: int
    revision: int


def open_generation(reads: ReadStore, name: str) -> Opened:
    """Read the pointer: the rebuild builds the generation after the live one."""
    pointer = reads.get(GENERATIONS, name)
    live = int(pointer.body["live"]) if pointer else 0
    return Opened(live, live + 1, pointer.revision if pointer else 0)


def switch(reads: ReadStore, name: str, opened: Opened) -> None:
    """Point readers and the stream at the new generation, in one conditional write (a no-op when done already).

    A concurrent rebuild that switched first makes this write fail (ReadModelConflict): one of them wins.
    """
    if live_generation(reads, name) != opened.generation:
        reads.commit([Write(GENERATIONS, name, {"live": opened.generation}, opened.revision)])


def purge(reads: ReadStore, name: str, generation: int, limit: int = PURGE_LIMIT) -> bool:
    """Delete up to `limit` documents of one generation and its positions; True while some remain."""
    collection = collection_of(name, generation)
    deleted = 0
    for target in (collection, f"_tracking.{collection}"):
        while deleted < limit:
            page = reads.list(target, min(100, limit - deleted))
            if not page.items:
                break
            reads.commit([Write(target, d.key, None, d.revision) for d in page.items])
            deleted += len(page.items)
    return deleted >= limit


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
    """Build the next generation of projection `name` with the runtime `runtime_for(generation)`; return it.

    In-process, the same steps the catch-up state machine runs on AWS (infra/catch_up.py): open, purge the
    leftovers of a rebuild that stopped half way, build every segment, switch, settle, catch up again, wait out
    the readers' grace, purge the old generation.
    """
    from horizon.catchup import catch_up

    opened = open_generation(reads, name)
    while purge(reads, name, opened.generation):
        pass
    runtime = runtime_for(opened.generation)
    for attempt in range(2):  # the second pass: commits the stream gave the old generation after the switch
        if attempt:
            sleep(settle)
        failed: dict[str, str] = {}
        for segment in range(segments):
            failed |= catch_up(runtime, segment, segments).failed
        if failed:
            raise BadRequest(
                f"rebuild {name}: generation {opened.generation} failed on {len(failed)} aggregates: {failed}"
            )
        switch(reads, name, opened)
    sleep(grace)
    while purge(reads, name, opened.live):
        pass
    return opened.generation
