"""The catch-up state machine's input and the catch-up Lambda's actions: one code path for AWS and the CLI.

The state machine (infra/catch_up.py) runs every step as an `action` of the same Lambda (functions/catch_up.py):
`segment` (catch one Scan segment up, for a republish or a rebuild's generation), and, for a rebuild, `open`
(which generation to build), `purge` (delete a bounded part of a generation), `switch` (point readers at the
new one). Locally, `horizon rebuild` runs the same functions in-process (horizon/generations.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from horizon.catchup import Slice, catch_up
from horizon.consumers import ProjectorRuntime, TrackedConsumer
from horizon.generations import Opened, open_generation, purge, switch

REPUBLISH, REBUILD = "republish", "rebuild"


class CatchUpFailed(Exception):
    """Some aggregates of a segment failed (the others were applied): the map, and the execution, fail with them."""


class SagaNotRebuilt(ValueError):
    """A saga's decisions were sent as commands: recomputing its state could send one twice or forget one."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} is a saga: its decisions were sent as commands, and recomputing them could send one twice "
            "or forget one, so it is never rebuilt (republish it instead)"
        )


def slice_to_json(where: Slice) -> dict[str, Any]:
    """A slice as the state machine carries it."""
    return {
        "aggregate_type": where.aggregate_type,
        "aggregate_id": None if where.aggregate_id is None else str(where.aggregate_id),
        "from_version": where.from_version,
        "since": None if where.since is None else where.since.isoformat(),
    }


def slice_from_json(document: Mapping[str, Any] | None) -> Slice:
    """The slice a state machine input carries (everything when absent)."""
    if not document:
        return Slice()
    return Slice(
        document.get("aggregate_type"),
        UUID(document["aggregate_id"]) if document.get("aggregate_id") else None,
        int(document.get("from_version") or 1),
        datetime.fromisoformat(document["since"]) if document.get("since") else None,
    )


def execution_input(
    operation: str, consumer: str, segments: int, *, where: Slice | None = None, settle: float = 0, grace: float = 0
) -> dict[str, Any]:
    """What `horizon republish|rebuild` starts the state machine with: every field its paths read, always."""
    return {
        "operation": operation,
        "consumer": consumer,
        "generation": None,
        "total": segments,
        "segments": list(range(segments)),
        "slice": slice_to_json(where or Slice()),
        "settle": round(settle),
        "grace": round(grace),
    }


def run_action(event: Mapping[str, Any], consumers: Mapping[str, TrackedConsumer]) -> dict[str, Any]:
    """Run one step of the state machine: {"action": segment|open|purge|switch, "consumer": name, ...}."""
    action = event.get("action", "segment")
    name = str(event["consumer"])
    if name not in consumers:
        raise LookupError(f"catch-up: {name!r} is none of {', '.join(sorted(consumers))}")
    runtime = consumers[name]
    generation = event.get("generation")
    if action == "segment" and generation is None:
        return _segment(runtime, event)
    if not isinstance(runtime, ProjectorRuntime):
        raise SagaNotRebuilt(name)
    if action == "segment":
        return _segment(runtime.for_generation(int(event["generation"])), event)
    reads = runtime.reads
    if action == "open":
        return asdict(open_generation(reads, name))
    if action == "purge":
        return {"more": purge(reads, name, int(event["generation"]))}
    if action == "switch":
        switch(reads, name, Opened(int(event["live"]), int(event["generation"]), int(event["revision"])))
        return {"live": int(event["generation"])}
    raise ValueError(f"catch-up {name}: unknown action {action!r}")


def _segment(runtime: TrackedConsumer, event: Mapping[str, Any]) -> dict[str, Any]:
    report = catch_up(runtime, int(event["segment"]), int(event["total"]), slice_from_json(event.get("slice")))
    if report.failed:
        # Raised after the whole segment ran: the other aggregates are applied, and the execution says which failed.
        raise CatchUpFailed(json.dumps({"segment": event["segment"], "failed": report.failed}))
    return {"aggregates": report.aggregates, "events": report.events}
