"""One `POST /commands/{CommandType}` route per registered command, so OpenAPI shows each command's schema.

No `from __future__ import annotations` here: Powertools reads the route signatures at run time, and the body
annotation must be the command class itself, not a string naming a local variable.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from horizon import telemetry
from horizon.command_handler import CommandContext, CommandHandler
from horizon.commands import Command
from horizon.errors import BadRequest, ConcurrencyError, DomainError
from horizon.http.contract import AUTHENTICATED, READS, answers
from horizon.http.principal import principal_of
from horizon.idempotency import claim
from horizon.readstore import ReadStore
from horizon.registry import Registry

MAX_IDEMPOTENCY_KEY = 128
MAX_CORRELATION_ID = 128
_PRINTABLE = re.compile(r"[\x20-\x7e]+")
_HEADER_PARAMETERS = [
    {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": limit, "pattern": f"^{_PRINTABLE.pattern}$"},
    }
    for name, limit, description in [
        ("Idempotency-Key", MAX_IDEMPOTENCY_KEY, "The same command sent again with this key runs once"),
        ("X-Correlation-Id", MAX_CORRELATION_ID, "Carried into every event the request causes"),
    ]
]


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
    """An Idempotency-Key header that is empty, longer than MAX_IDEMPOTENCY_KEY or not printable (answers 400)."""


class BadCorrelationId(BadRequest):
    """An X-Correlation-Id header that is empty, longer than MAX_CORRELATION_ID or not printable (answers 400)."""


def add_command_routes(
    app: BaseRouter, registry: Registry, handler: Callable[[], CommandHandler], reads: Callable[[], ReadStore]
) -> None:
    """Register a POST route for every public command; the callables run per request, so they are built lazily.

    `reads` keeps Idempotency-Key records.

    Internal commands get no route, so they are absent from OpenAPI and answer 404 like an unknown command type;
    the command handler refuses them from any client anyway.
    """
    for name, binding in registry.commands.items():
        if binding.model.audience.internal:
            continue
        _add_route(app, name, binding.model, binding.aggregate.aggregate_type, handler, reads)


def _add_route(
    app: BaseRouter,
    name: str,
    model: type[Command],
    aggregate_type: str,
    handler: Callable[[], CommandHandler],
    reads: Callable[[], ReadStore],
) -> None:
    def run(command: Annotated[model, Body()]) -> CommandAccepted:  # type: ignore[valid-type]
        context, keyed = _context(app)
        if keyed:
            claim(reads(), context.command_id, command)
        report = telemetry.current()
        sent: Command = command
        report.annotate(command=name, aggregate_type=aggregate_type, aggregate_id=str(sent.id))
        try:
            result = handler().handle(command, context)
        except DomainError:
            report.count(telemetry.COMMANDS_REJECTED)
            raise
        except ConcurrencyError:
            report.count(telemetry.COMMANDS_CONFLICTED)
            raise
        report.count(telemetry.COMMANDS_HANDLED)
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
        responses=answers(
            "Handled; `events` is empty for a no-op",
            (*READS, 400, 404, 409, 413, 415, 500),
            {
                400: "Malformed JSON, a body that is not an object, bad base64 or not UTF-8; an Idempotency-Key or "
                "X-Correlation-Id that is empty, over 128 characters or not printable ASCII",
                403: _forbidden(model),
                404: "Unknown command type, or the aggregate does not exist",
                422: "The body does not match the command's schema (`errors` names each field), or the "
                "Idempotency-Key was used for another command or body",
            },
        ),
        security=AUTHENTICATED,
        # The two headers are read (and refused with a 400) by `_context`, not by Powertools' validation,
        # which would answer 422: so they are declared here, where the route has no other parameter.
        openapi_extensions={"parameters": _HEADER_PARAMETERS},
    )(run)


def _forbidden(model: type[Command]) -> str:
    audience = model.audience
    owners = f", nor is it one of {sorted(audience.owners)} who owns the aggregate" if audience.owners else ""
    return f"The token has none of the roles {sorted(audience.roles)}{owners}"


def _context(app: BaseRouter) -> tuple[CommandContext, bool]:
    """The command's context, and whether the client named it with an Idempotency-Key."""
    event: Any = app.current_event
    principal = principal_of(event.raw_event)
    headers = event.headers or {}
    correlation = headers.get("x-correlation-id")
    if correlation is None:
        correlation = event.request_context.request_id
    elif not _PRINTABLE.fullmatch(correlation) or len(correlation) > MAX_CORRELATION_ID:
        # It is copied into every event the request causes: bounded and printable, or refused.
        raise BadCorrelationId(
            f"the X-Correlation-Id header must have 1 to {MAX_CORRELATION_ID} printable ASCII characters"
        )
    key = headers.get("idempotency-key")
    if key is None:
        return CommandContext(correlation_id=correlation, principal=principal), False
    if not _PRINTABLE.fullmatch(key) or len(key) > MAX_IDEMPOTENCY_KEY:
        raise BadIdempotencyKey(
            f"the Idempotency-Key header must have 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
        )
    # A key belongs to the client that chose it: two clients picking the same key never share a result.
    command_id = f"key:{principal.subject}:{key}"
    return CommandContext(command_id=command_id, correlation_id=correlation, principal=principal), True
