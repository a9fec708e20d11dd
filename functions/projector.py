"""Lambda entry point: the event table's stream → every projector of the domain."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.composition import container
from horizon.dynamodb.streams import process_stream_batch

logger = Logger(service="horizon-projector")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Project each commit in the batch; failed records are reported for redelivery."""
    return process_stream_batch(event, context, [runtime.process_batch for runtime in container().projectors])
