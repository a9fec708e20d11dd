"""Lambda entry point: every GET route (read models, histories, health, OpenAPI)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from functions import snapstart
from functions.api import OPEN_ROUTES, query_app
from functions.observability import observe
from horizon.http.resolver import resolve

observed = observe("horizon-queries")
snapstart.register(snapstart.prime_queries)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer a query, or a problem."""
    return resolve(query_app(), event, context, open_routes=OPEN_ROUTES)


handler = observed.wrap(_handle, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
