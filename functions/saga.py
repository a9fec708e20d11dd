"""Lambda entry point: the saga's queue of the fan-out (or the event table's stream) → every saga of the domain."""

from __future__ import annotations

from typing import Any

from functions import snapstart
from functions.composition import container
from functions.observability import observe
from horizon.dynamodb.streams import process_stream_batch

observed = observe("horizon-saga")
snapstart.register(snapstart.prime_consumers("sagas"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Let each saga react to each commit in the batch; failed records are reported for redelivery."""
    built = container()
    consumers = [runtime.process_batch for runtime in built.sagas]
    return process_stream_batch(event, context, consumers, opener=built.sealer.open_commits, load=built.load_sealed)


handler = observed.wrap(_handle)
