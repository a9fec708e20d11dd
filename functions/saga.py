"""Lambda entry point: the saga's queue of the fan-out (or the event table's stream) → every saga of the domain."""

from __future__ import annotations

from typing import Any

from functions import snapstart
from functions.composition import container
from functions.observability import observe

observed = observe("horizon-saga")
snapstart.register(snapstart.prime_consumers("sagas"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Let each saga react to each commit in the batch; failed records are reported for redelivery."""
    built = container()
    return built.consume(event, context, [runtime.process_batch for runtime in built.sagas])


handler = observed.wrap(_handle)
