"""Lambda entry point: one Scan segment of a catch-up (or of a rebuild's generation), run by the state machine."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.composition import container
from horizon.catchup import catch_up
from horizon.consumers import ProjectorRuntime, TrackedConsumer

logger = Logger(service="horizon-catch-up")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"consumer": name, "segment": i, "total": n, "generation": g or null} → what the segment did."""
    built = container()
    runtimes: dict[str, TrackedConsumer] = {r.name: r for r in [*built.projectors, *built.sagas]}
    runtime = runtimes[event["consumer"]]
    generation = event.get("generation")
    if generation is not None:
        if not isinstance(runtime, ProjectorRuntime):
            raise ValueError(f"catch-up {event['consumer']}: a saga has no generations (it is never rebuilt)")
        runtime = ProjectorRuntime(
            runtime.projector, built.registry, built.read_store, built.event_store, generation=int(generation)
        )
    report = catch_up(runtime, int(event["segment"]), int(event["total"]))
    logger.info("segment done", extra={"aggregates": report.aggregates, "events": report.events})
    return {"aggregates": report.aggregates, "events": report.events, "failed": report.failed}
