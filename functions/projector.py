"""Lambda entry point: the event table's stream (or a queue of the fan-out) → every projector of the domain."""

from __future__ import annotations

from typing import Any

from functions import snapstart
from functions.composition import container
from functions.observability import observe
from horizon import telemetry
from horizon.dynamodb.streams import process_stream_batch

observed = observe("horizon-projector")
snapstart.register(snapstart.prime_consumers("projectors"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Project each commit in the batch; failed records are reported for redelivery."""
    built = container()
    return process_stream_batch(
        event,
        context,
        [runtime.process_batch for runtime in built.projectors],
        counted_as=telemetry.EVENTS_PROJECTED,
        opener=built.sealer.open_commits,
        load=built.load_sealed,
    )


handler = observed.wrap(_handle)
