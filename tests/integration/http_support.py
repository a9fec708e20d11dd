"""Shared helpers for the HTTP contract tests: a moto-backed stack and a way to call the API functions.

The tests call the Lambda handlers directly with the API Gateway (HTTP API v2) events `to_event` builds, so the
whole path from raw request to problem+json answer runs without an HTTP server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import boto3
import pytest
from moto import mock_aws

from functions import command_api, composition, query_api
from functions.routes import function_for
from horizon.dynamodb.datakeys import create_local_keys
from horizon.dynamodb.tables import create_tables
from horizon.local.apigw import from_result, to_event
from horizon.local.lambda_context import LocalContext
from horizon.local.moto_patches import patch_moto
from horizon.secrets import create_local_secret

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EVENTS_TABLE = "http-events"
READ_TABLE = "http-read"
GUEST_LIMIT = 2
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Answer:
    """One parsed Lambda proxy result."""

    status: int
    headers: dict[str, str]
    raw: bytes

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Stack:
    """The moto DynamoDB client and the container the API functions use."""

    client: DynamoDBClient
    container: composition.Container

    def event_count(self) -> int:
        """Every item in the events table (event items and tips)."""
        return int(self.client.scan(TableName=EVENTS_TABLE, Select="COUNT")["Count"])

    def events_of(self, aggregate_id: UUID | str) -> list[Any]:
        """The stored events of one invitation, in version order."""
        return self.container.event_store.load("Invitation", UUID(str(aggregate_id)))


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Fresh tables in moto and a container over them, installed as the functions' composition root.

    The fake AWS environment comes from the autouse `aws_credentials` fixture of tests/integration/conftest.py.
    """
    monkeypatch.setenv("EVENTS_TABLE", EVENTS_TABLE)
    monkeypatch.setenv("READ_TABLE", READ_TABLE)
    monkeypatch.setenv("GUEST_LIMIT", str(GUEST_LIMIT))
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    patch_moto()
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client, EVENTS_TABLE, READ_TABLE)
        settings = composition.Settings.from_env()
        kms = boto3.client("kms")
        create_local_keys(client, kms, settings.keys_table, settings.kms_key_id)
        create_local_secret(boto3.client("secretsmanager"), settings.claims_secret_id)
        built = composition.Container(settings, client, kms)
        composition.use(built)
        try:
            yield Stack(client, built)
        finally:
            composition.use(None)


HOST_CLAIMS: dict[str, str] = {"sub": "host-1", "cognito:groups": "[hosts]", "iss": "test", "aud": "horizon"}
"""What API Gateway's JWT authorizer passes for a verified host token (array claims arrive as `[a b]` strings)."""
GUEST_CLAIMS: dict[str, str] = {**HOST_CLAIMS, "sub": "guest-1", "cognito:groups": "[guests]"}
GUEST_EMAIL = "guest-1@example.org"
OWNER_CLAIMS: dict[str, str] = {**GUEST_CLAIMS, "email": GUEST_EMAIL, "email_verified": "true"}
"""A guest whose verified e-mail is GUEST_EMAIL: the owner of an invitation created with `email=GUEST_EMAIL`."""


def authorized(event: dict[str, Any], claims: Mapping[str, str] | None) -> dict[str, Any]:
    """The event as API Gateway passes it after its JWT authorizer verified a token with these claims."""
    if claims is None:
        return event
    context = {**event["requestContext"], "authorizer": {"jwt": {"claims": dict(claims), "scopes": None}}}
    return {**event, "requestContext": context}


def call(
    method: str,
    target: str,
    body: bytes | str | Any = b"",
    headers: Mapping[str, str] | None = None,
    claims: Mapping[str, str] | None = HOST_CLAIMS,
) -> Answer:
    """Send one request to the function API Gateway would route it to, as a host unless `claims` says otherwise.

    A dict or list body is sent as JSON; `claims=None` sends the event without any authorizer context.
    """
    if isinstance(body, str):
        raw = body.encode()
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body).encode()
    sent = {"content-type": "application/json"} if raw else {}
    sent.update(headers or {})
    return send(authorized(to_event(method, target, sent, raw, "127.0.0.1"), claims))


def invoke(method: str, target: str, overrides: Mapping[str, Any]) -> Answer:
    """Send a hand-made host event: the one `to_event` builds for an empty request, with `overrides` over it."""
    event = authorized(to_event(method, target, {"content-type": "application/json"}, b"", "127.0.0.1"), HOST_CLAIMS)
    return send({**event, **overrides})


def send(event: dict[str, Any]) -> Answer:
    """Hand an API Gateway event to the function its route belongs to, as the HTTP API's route table does."""
    method, path = event["requestContext"]["http"]["method"], event["rawPath"]
    handler = command_api.handler if function_for(method, path) == "command-api" else query_api.handler
    return Answer(*from_result(handler(event, LocalContext("horizon-test"))))


def command(
    name: str, body: Any, headers: Mapping[str, str] | None = None, claims: Mapping[str, str] | None = HOST_CLAIMS
) -> Answer:
    """POST /commands/{name}, as a host unless `claims` says otherwise."""
    return call("POST", f"/commands/{name}", body, headers, claims)


def create_invite(
    name: str = "Ada", age: int | None = 36, invite_id: UUID | None = None, email: str | None = None
) -> UUID:
    """Create an invitation over HTTP and return its id; fails the test unless it answers 200."""
    invite_id = invite_id or uuid4()
    body: dict[str, Any] = {"id": str(invite_id), "name": name}
    if age is not None:
        body["age"] = age
    if email is not None:
        body["email"] = email
    answer = command("CreateInvite", body)
    assert answer.status == 200, answer.raw
    return invite_id


def assert_problem(answer: Answer, status: int, *, title: str | None = None) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status; return its body."""
    assert answer.status == status, answer.raw
    assert answer.header("Content-Type") == PROBLEM_JSON
    problem: dict[str, Any] = answer.json
    assert problem["status"] == status
    assert problem["type"].startswith("https://horizon.dev/problems/")
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    if title is not None:
        assert problem["title"] == title
    return problem


def field_errors(answer: Answer) -> list[dict[str, Any]]:
    """The field errors of a 422 problem."""
    problem = assert_problem(answer, 422, title="Validation Failed")
    errors = problem["errors"]
    assert errors
    assert all(isinstance(e["loc"], str) for e in errors)
    return list(errors)
