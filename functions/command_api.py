"""Lambda entry point: POST /commands/{CommandType}."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from functions import snapstart
from functions.api import OPEN_ROUTES, command_app
from functions.observability import observe
from horizon.http.resolver import resolve

observed = observe("horizon-commands")
snapstart.register(snapstart.prime_commands)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validate the command, run it against its aggregate, answer 200 or a problem."""
    return resolve(command_app(), event, context, open_routes=OPEN_ROUTES)


handler = observed.wrap(_handle, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
