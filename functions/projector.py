"""Lambda entry point: the event table's stream (or a queue of the fan-out) → every projector of the domain."""

from __future__ import annotations

from typing import Any

from functions import snapstart
from functions.composition import container
from functions.observability import observe
from horizon import telemetry

observed = observe("horizon-projector")
snapstart.register(snapstart.prime_consumers("projectors"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Project each commit in the batch; failed records are reported for redelivery."""
    from horizon.consumers.projector import follow_live

    built = container()
    follow_live(built.projectors)  # every projector's generation pointer in one read
    return built.consume(event, context, [r.process_batch for r in built.projectors], telemetry.EVENTS_PROJECTED)


handler = observed.wrap(_handle)
