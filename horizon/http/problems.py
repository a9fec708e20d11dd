"""RFC 9457 problem details: every error answer of the HTTP API has this shape."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Body Too Large",
    415: "Unsupported Media Type",
    500: "Internal Error",
}
"""Default titles (statuses with several causes always name their own), spelled here rather than taken from
`http.HTTPStatus`, whose phrases change between Python versions (413 did in 3.13): the `type` URIs made from
them are a contract, listed in the README."""


class FieldError(BaseModel):
    """One field a validation problem (422 `validation-failed`) refused: where, which rule, and why."""

    loc: str
    type: str
    msg: str


class ProblemDetails(BaseModel):
    """The RFC 9457 body of every error answer (for the OpenAPI document); extensions vary by problem."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    """Only in `validation-failed` problems."""


def problem(status: int, detail: str, *, title: str | None = None, **extensions: Any) -> Response[str]:
    """A problem+json response; `type` is a stable slug of the title, so clients can switch on it."""
    title = title or TITLES.get(status, "Error")
    body = {
        "type": f"https://horizon.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body, default=str))


def problem_event(
    status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The same problem as a raw API Gateway proxy result, for answers given before routing."""
    response = problem(status, detail, title=title)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": PROBLEM_JSON, **(headers or {})},
        "body": response.body,
        "isBase64Encoded": False,
    }
