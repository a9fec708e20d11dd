"""The OpenAPI document tells the truth about every answer: each error a route gives is declared as a problem."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.integration.http_support import PROBLEM_JSON, Stack, assert_problem, call, stack

__all__ = ["stack"]  # the fixture, imported for pytest to find


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_every_declared_error_answer_is_a_problem_except_api_gateways_own(stack: Stack) -> None:
    document = call("GET", "/openapi.json", claims=None).json

    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            content = set(response.get("content", {}))
            if status in ("200", "429"):  # the success schema, or API Gateway's throttle message
                assert content == {"application/json"}, (method, path)
            elif status == "401":  # the functions' problem, or API Gateway's authorizer's message on AWS
                assert content == {PROBLEM_JSON, "application/json"}, (method, path)
            else:
                assert content == {PROBLEM_JSON}, (method, path, status)


def test_every_command_declares_the_statuses_its_pipeline_can_answer(stack: Stack) -> None:
    document = call("GET", "/openapi.json", claims=None).json

    commands = [op for method, path, op in operations(document) if path.startswith("/commands/")]

    assert commands
    for operation in commands:
        assert {"200", "400", "401", "403", "404", "409", "413", "415", "422", "500", "503"} <= set(
            operation["responses"]
        )
        assert operation["responses"]["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
        headers = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers["Idempotency-Key"]["maxLength"] == 128


@pytest.mark.parametrize("target", ["/invitations?cursor=", "/aggregates/Invitation/{id}/events?cursor="])
def test_an_empty_cursor_is_forbidden_by_the_schema_and_answered_422(stack: Stack, target: str) -> None:
    document = call("GET", "/openapi.json", claims=None).json
    path = target.split("?")[0].replace("{id}", "{aggregate_id}").replace("Invitation", "{aggregate_type}")
    (cursor,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "cursor"]
    assert cursor["schema"]["anyOf"][0]["minLength"] >= 1

    problem = assert_problem(call("GET", target.format(id=uuid4())), 422, title="Validation Failed")

    assert [e["loc"] for e in problem["errors"]] == ["query.cursor"]


@pytest.mark.parametrize(
    ("body", "content_type"), [(b"x" * (70 * 1024), "application/json"), (b"<a/>", "application/xml")]
)
def test_a_query_ignores_a_body_instead_of_answering_a_status_it_does_not_declare(
    stack: Stack, body: bytes, content_type: str
) -> None:
    answer = call("GET", "/guestlist", body, {"content-type": content_type})

    assert answer.status == 200
