"""What the OpenAPI document promises each route may answer, defined once for every route.

Generated clients, gateways' validators and fuzzers take `/openapi.json` at its word, so every status a route
can answer is listed with its body: the success schema (Powertools derives it from the return annotation) or
the RFC 9457 problem schema under `application/problem+json`. Routes name their statuses; the descriptions,
schemas and headers come from the tables here.

No `from __future__ import annotations`: the models below are read by Powertools at run time.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel

from horizon.http.problems import PROBLEM_JSON, ProblemDetails

BEARER = "bearer"
"""The name of the one security scheme: a JWT in `Authorization: Bearer`, verified by API Gateway."""

AUTHENTICATED: list[dict[str, list[str]]] = [{BEARER: []}]
"""`security=` of every route behind the JWT authorizer; open routes name none."""

PROBLEM_CAUSES: dict[int, str] = {
    400: "Malformed: a value this API did not hand out, or values that contradict each other",
    401: "No bearer token, or a malformed, expired or wrongly signed one. API Gateway's authorizer answers it on "
    'AWS with its own `{"message": "Unauthorized"}`; the functions and the local stack with a problem',
    403: "The token's roles may not use this route",
    404: "Not found",
    409: "Rejected by a domain rule: sending it again will not help",
    413: "The body is over 64 KiB",
    415: "The body is not JSON (send `Content-Type: application/json`)",
    422: "A value of the wrong type, shape or range; `errors` names each field",
    429: 'API Gateway\'s stage throttle (AWS only), with its own `{"message": "Too Many Requests"}`',
    500: "A stored event this code cannot read (`unreadable-history`, named in the body and the log)",
    503: "DynamoDB throttled, or a command lost every optimistic-concurrency retry: send it again after Retry-After",
}
"""The default description of each problem status; a route may say more about its own causes."""

_HEADERS: dict[int, dict[str, OpenAPIResponseHeader]] = {
    401: {"WWW-Authenticate": {"description": '`Bearer`, with `error="invalid_token"` for a bad token'}},
    503: {"Retry-After": {"description": "Seconds to wait before sending again", "schema": {"type": "integer"}}},
}


class GatewayMessage(BaseModel):
    """The body API Gateway itself answers with (its authorizer's 401, its throttle's 429), not a problem."""

    message: str


_GATEWAY_ANSWERS = {401, 429}
"""Statuses API Gateway may answer before any function runs, with a `GatewayMessage` as `application/json`."""

AUTHORIZED = (401, 403, 429)
"""What any route behind the authorizer can answer before it runs."""

READS = (*AUTHORIZED, 503)
"""What any authorized route that reads DynamoDB can answer besides its own statuses."""


def answers(
    success: str,
    statuses: Iterable[int],
    causes: Mapping[int, str] | None = None,
    *,
    body: dict[str, Any] | None = None,
) -> dict[int, Any]:
    """The `responses=` of a route: 200 with its return type's schema, and a problem for each of `statuses`.

    `causes` overrides the default description of a status with this route's own causes; `body` is the success
    schema of a route that returns a prepared `Response`. 422 is always listed: Powertools documents its
    validation answer on every route, as JSON, and the answer is a problem.
    """
    documented: dict[int, OpenAPIResponse] = {200: {"description": success}}
    if body is not None:
        documented[200]["content"] = {"application/json": {"schema": body}}
    for status in sorted({*statuses, *(causes or {}), 422}):
        # API Gateway's throttle answers before any function runs: never a problem.
        content: dict[str, Any] = {} if status == 429 else {PROBLEM_JSON: {"model": ProblemDetails}}
        if status in _GATEWAY_ANSWERS:
            content["application/json"] = {"model": GatewayMessage}
        response: OpenAPIResponse = {
            "description": (causes or {}).get(status) or PROBLEM_CAUSES[status],
            "content": content,
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        documented[status] = response
    return documented


CURSOR_PATTERN = r"^[A-Za-z0-9_-]+={0,2}$"
"""Every cursor this API hands out is URL-safe base64: anything else (an empty one too) is refused by schema."""


def cursor_query(max_length: int) -> Any:
    """The `cursor` query parameter of a paged route: the `next_cursor` its last page answered."""
    return Query(
        min_length=4, max_length=max_length, pattern=CURSOR_PATTERN, description="`next_cursor` of the last page"
    )


def security_schemes() -> dict[str, Any]:
    """The one security scheme, for `get_openapi_json_schema` (imported only when the document is built)."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {BEARER: HTTPBearer(bearerFormat="JWT", description="A Cognito ID token on AWS; `make token` locally")}
