"""One `POST /commands/{CommandType}` route per registered command, so OpenAPI shows each command's schema.

No `from __future__ import annotations` here: Powertools reads the route signatures at run time, and the body
annotation must be the command class itself, not a string naming a local variable.
"""

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from horizon.command_handler import CommandContext, CommandHandler
from horizon.commands import Command
from horizon.errors import BadRequest
from horizon.http.principal import principal_of
from horizon.registry import Registry

MAX_IDEMPOTENCY_KEY = 128


class AppendedEvent(BaseModel):
    """One event a command appended."""

    type: str
    version: int


class CommandAccepted(BaseModel):
    """The answer to a command: the aggregate's version afterwards and the events appended (none for a no-op)."""

    aggregate_type: str
    aggregate_id: UUID
    version: int
    events: list[AppendedEvent]


class BadIdempotencyKey(BadRequest):
    """An Idempotency-Key header longer than MAX_IDEMPOTENCY_KEY (answers 400)."""


def add_command_routes(app: BaseRouter, registry: Registry, handler: Callable[[], CommandHandler]) -> None:
    """Register a POST route for every public command; `handler` is called per request so it is built lazily.

    Internal commands get no route, so they are absent from OpenAPI and answer 404 like an unknown command type;
    the command handler refuses them from any client anyway.
    """
    for name, binding in registry.commands.items():
        if binding.model.audience.internal:
            continue
        _add_route(app, name, binding.model, binding.aggregate.aggregate_type, handler)


def _add_route(
    app: BaseRouter, name: str, model: type[Command], aggregate_type: str, handler: Callable[[], CommandHandler]
) -> None:
    def run(command: Annotated[model, Body()]) -> CommandAccepted:  # type: ignore[valid-type]
        result = handler().handle(command, _context(app))
        return CommandAccepted(
            aggregate_type=result.aggregate_type,
            aggregate_id=result.aggregate_id,
            version=result.version,
            events=[AppendedEvent(type=e.type, version=e.version) for e in result.events],
        )

    run.__name__ = f"command_{name}"
    app.post(
        f"/commands/{name}",
        summary=name,
        description=(model.__doc__ or "").strip(),
        tags=[aggregate_type],
        operation_id=name,
        responses={
            200: {"description": "Handled; `events` is empty for a no-op"},
            400: {"description": "Malformed JSON, or a body that is not an object"},
            401: {"description": "No valid bearer token"},
            403: {"description": f"The token has none of the roles {sorted(model.audience.roles)}"},
            404: {"description": "Unknown command type, or the aggregate does not exist"},
            409: {"description": "Rejected by a domain rule"},
            413: {"description": "Body over 64 KiB"},
            422: {"description": "The body does not match the command's schema"},
        },
    )(run)


def _context(app: BaseRouter) -> CommandContext:
    event: Any = app.current_event
    principal = principal_of(event.raw_event)
    headers = event.headers or {}
    correlation = headers.get("x-correlation-id") or event.request_context.request_id
    key = headers.get("idempotency-key")
    if key is None:
        return CommandContext(correlation_id=correlation, principal=principal)
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise BadIdempotencyKey(f"the Idempotency-Key header must have 1 to {MAX_IDEMPOTENCY_KEY} characters")
    # A key belongs to the client that chose it: two clients picking the same key never share a result.
    return CommandContext(command_id=f"key:{principal.subject}:{key}", correlation_id=correlation, principal=principal)
