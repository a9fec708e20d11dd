"""Lambda entry point: POST /commands/{CommandType}."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from functions.api import OPEN_ROUTES, command_app
from horizon.http.resolver import resolve

logger = Logger(service="horizon-commands")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validate the command, run it against its aggregate, answer 200 or a problem."""
    return resolve(command_app(), event, context, open_routes=OPEN_ROUTES)
