"""The shared HTTP resolver: Powertools validation and OpenAPI, with every failure mapped to a problem.

Routing, validation and schema generation are Powertools'; this module only decides the status code and the
problem text for each kind of failure, so the command and query functions answer errors identically.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from horizon.authorization import Forbidden, Unauthenticated
from horizon.errors import (
    AggregateNotFound,
    BadRequest,
    CommandIdReused,
    ConcurrencyError,
    DomainError,
    Throttled,
    UnreadableHistory,
    VersionNotFound,
)
from horizon.http.principal import principal_of
from horizon.http.problems import problem, problem_event
from horizon.registry import UnknownType
from horizon.retry import RETRY_AFTER_SECONDS, is_throttling

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_METHODS_WITH_BODY = {"POST", "PUT", "PATCH"}
_NOT_AN_OBJECT = {"model_attributes_type", "model_type", "dict_type", "missing"}

Route = tuple[str, str]
"""(method, path template) of one route of the whole API, e.g. ("POST", "/commands/{command_type}")."""


def build_resolver(api_routes: Sequence[Route]) -> APIGatewayHttpResolver:
    """A resolver whose errors are problems; `api_routes` lists the whole API so a wrong method answers 405."""
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json)
    patterns = [(method, _template_regex(path)) for method, path in api_routes]

    @app.not_found
    def not_found(_: NotFoundError) -> Response[str]:
        method = app.current_event.request_context.http.method
        path = app.current_event.path
        allowed = sorted({m for m, regex in patterns if regex.fullmatch(path)})
        if allowed and method not in allowed:
            response = problem(405, f"{method} is not allowed on {path}; use {', '.join(allowed)}")
            response.headers["Allow"] = ", ".join(allowed)
            return response
        if path.startswith("/commands/"):
            return problem(
                404, f"there is no command type {path.removeprefix('/commands/')!r}", title="Unknown Command"
            )
        return problem(404, f"there is no route {method} {path}")

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        return validation_problem(error.errors())

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_type(_: RequestUnsupportedContentType) -> Response[str]:
        return problem(415, "send the body as application/json")

    @app.exception_handler(Unauthenticated)
    def unauthenticated(error: Unauthenticated) -> Response[str]:
        response = problem(401, str(error))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(Forbidden)
    def forbidden(error: Forbidden) -> Response[str]:
        return problem(403, str(error))

    @app.exception_handler(DomainError)
    def rejected(error: DomainError) -> Response[str]:
        return problem(409, error.message, title="Rejected", aggregate_type=error.aggregate_type)

    @app.exception_handler(ConcurrencyError)
    def contended(error: ConcurrencyError) -> Response[str]:
        # Not a 409: the command was never judged. The same command, sent again later, may well succeed.
        detail = f"{error}; too many concurrent writers, send the same command again after Retry-After"
        return unavailable(problem(503, detail, title="Too Much Contention"))

    @app.exception_handler(Throttled)
    def throttled(error: Throttled) -> Response[str]:
        return throttled_problem(error)

    @app.exception_handler([AggregateNotFound, UnknownType])
    def missing(error: Exception) -> Response[str]:
        return problem(404, str(error))

    @app.exception_handler(VersionNotFound)
    def past_the_end(error: VersionNotFound) -> Response[str]:
        return problem(404, str(error), title="Version Not Found", current_version=error.current_version)

    @app.exception_handler(UnreadableHistory)
    def unreadable(error: UnreadableHistory) -> Response[str]:
        # Operational: stored history the deployed code cannot read. Someone must add an upcaster or roll back.
        logger.error("unreadable history: %s", error, extra=error.facts())
        # The reason stays in the log: a validation message can quote stored (maybe personal) data.
        detail = (
            f"{error.aggregate_type} {error.aggregate_id}: the event at version {error.version} "
            f"({error.event_type}, schema v{error.schema_version}) cannot be read by this code; it has been logged"
        )
        return problem(500, detail, title="Unreadable History", **error.facts())

    @app.exception_handler(CommandIdReused)
    def reused(error: CommandIdReused) -> Response[str]:
        return problem(422, str(error), title="Idempotency Key Reused")

    @app.exception_handler(BadRequest)
    def bad_request(error: BadRequest) -> Response[str]:
        return problem(400, str(error))

    @app.exception_handler(Exception)
    def bug(error: Exception) -> Response[str]:
        if is_throttling(error):
            logger.warning("throttled after botocore's retries: %s", error)
            return throttled_problem(error)
        logger.exception("unhandled error")
        return problem(500, "an unexpected error occurred; it has been logged")

    return app


def throttled_problem(error: Exception) -> Response[str]:
    """503 for DynamoDB throttling that outlasted botocore's retries."""
    return unavailable(problem(503, f"{error}; send the same request again after Retry-After", title="Throttled"))


def unavailable(response: Response[str]) -> Response[str]:
    """A 503 problem that tells the client when to try again."""
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def validation_problem(errors: Sequence[Any]) -> Response[str]:
    """400 for a body that is not a JSON object at all, 422 with field errors for a wrong shape."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "the body is not valid JSON", title="Malformed JSON")
    if any(e.get("type") in _NOT_AN_OBJECT and tuple(e.get("loc", ())) == ("body",) for e in errors):
        return problem(400, "the body must be a JSON object", title="Malformed JSON")
    fields = [
        {"loc": ".".join(str(part) for part in e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
        for e in errors
    ]
    summary = "; ".join(f"{f['loc']}: {f['msg']}" for f in fields)
    return problem(422, summary or "the request is invalid", title="Validation Failed", errors=fields)


def admit(event: dict[str, Any]) -> dict[str, Any]:
    """Check the raw body before anything parses it; return a problem result or the event to route.

    Oversized (413), non-JSON content types (415), bad base64 and non-UTF-8 bytes (400) are answered here,
    and an admitted body reaches Powertools as plain `application/json` text whatever its spelling was.
    """
    body = event.get("body") or ""
    raw: bytes = body.encode() if isinstance(body, str) else b""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return problem_event(400, "the body is not valid base64", title="Malformed JSON")
    if len(raw) > MAX_BODY_BYTES:
        return problem_event(413, f"the body has {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    if not raw:
        return event
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        return problem_event(415, f"the body is {media}; send it as application/json", title="Unsupported Media Type")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return problem_event(400, "the body is not UTF-8 JSON", title="Malformed JSON")
    headers["content-type"] = "application/json"
    return {**event, "headers": headers, "body": text, "isBase64Encoded": False}


def parse_json(text: str) -> Any:
    """json.loads that reports every unparseable body as a JSONDecodeError (so a 400, never a 500)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as error:
        # Nesting deeper than the interpreter's stack, or an integer longer than Python's 4300-digit cap.
        raise json.JSONDecodeError(f"unparseable JSON: {type(error).__name__}", text, 0) from None


def resolve(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: Any, *, open_routes: Sequence[Route] = ()
) -> dict[str, Any]:
    """Answer one API Gateway HTTP API (v2) event: authenticate, admit the raw body, then route.

    Every route but `open_routes` needs verified claims, checked before the body is even read, as API Gateway
    does: a misrouted or unprotected request is a 401 here rather than an anonymous command.
    """
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "")
    if (method, event.get("rawPath", "")) not in open_routes:
        try:
            principal_of(event)
        except Unauthenticated as error:
            return problem_event(401, str(error), headers={"WWW-Authenticate": "Bearer"})
    if method not in _METHODS_WITH_BODY:
        # No query route reads a body: ignore it rather than answer 413 or 415, which no query documents.
        event = {**event, "body": None, "isBase64Encoded": False}
    admitted = admit(event)
    if "statusCode" in admitted:
        return admitted
    return app.resolve(admitted, context)


def route_of(api_routes: Sequence[Route], method: str, path: str) -> Route | None:
    """The route of `api_routes` (method, template) a request's concrete path matches, if any."""
    return next((r for r in api_routes if r[0] == method and _template_regex(r[1]).fullmatch(path)), None)


def _template_regex(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)))
