"""Lambda entry point: every GET route (read models, histories, health, OpenAPI)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from functions.api import OPEN_ROUTES, query_app
from horizon.http.resolver import resolve

logger = Logger(service="horizon-queries")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer a query, or a problem."""
    return resolve(query_app(), event, context, open_routes=OPEN_ROUTES)
