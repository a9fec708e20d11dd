"""Lambda entry point: one step of the catch-up state machine (a Scan segment, or a rebuild's open/purge/switch)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions import snapstart
from functions.composition import container
from horizon.catchup_actions import run_action

logger = Logger(service="horizon-catch-up")
snapstart.register(snapstart.prime_consumers("projectors", "sagas"))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"action": segment|open|purge|switch, "consumer": name, ...} → what the step did (horizon/catchup_actions.py)."""
    built = container()
    result = run_action(event, {r.name: r for r in [*built.projectors, *built.sagas]})
    logger.info("catch-up step done", extra={"action": event.get("action", "segment"), **result})
    return result
