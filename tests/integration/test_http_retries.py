"""Honest answers for retries: idempotency keys bound to type and body, 503 for contention and throttling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

import pytest

from horizon.command_handler import CommandHandler
from horizon.dynamodb.eventstore import DynamoDBEventStore
from horizon.dynamodb.readstore import DynamoDBReadStore
from horizon.privacy.sealing import SealingEventStore
from horizon.retry import RETRY_AFTER_SECONDS
from tests.integration.http_support import (
    EVENTS_TABLE,
    GUEST_EMAIL,
    OWNER_CLAIMS,
    READ_TABLE,
    Stack,
    assert_problem,
    call,
    command,
    create_invite,
    stack,
)

from .dynamodb_fakes import ContendedClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["stack"]  # the fixture, imported for pytest to find


class ThrottledClient:
    """A DynamoDB client whose every data call is refused for throughput, after botocore's own retries."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.exceptions = real.exceptions

    def __getattr__(self, name: str) -> Any:
        def refuse(**request: Any) -> Any:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}}
            raise self.exceptions.ProvisionedThroughputExceededException(error, name)

        return refuse


# Idempotency-Key


def test_the_same_key_with_another_body_is_422_and_runs_nothing(stack: Stack) -> None:
    invite_id = uuid4()
    key = {"Idempotency-Key": "create-1"}
    assert command("CreateInvite", {"id": str(invite_id), "name": "Ada"}, key).status == 200

    problem = assert_problem(command("CreateInvite", {"id": str(invite_id), "name": "Eve"}, key), 422)

    assert "another body" in problem["detail"]
    assert [e.data["name"] for e in stack.events_of(invite_id)] == ["Ada"]


def test_the_same_key_for_another_aggregate_is_422_and_runs_nothing(stack: Stack) -> None:
    key = {"Idempotency-Key": "create-2"}
    assert command("CreateInvite", {"id": str(uuid4()), "name": "Ada"}, key).status == 200
    other = uuid4()

    assert_problem(command("CreateInvite", {"id": str(other), "name": "Ada"}, key), 422)

    assert stack.events_of(other) == []


def test_the_same_body_spelled_differently_is_the_same_command(stack: Stack) -> None:
    invite_id = uuid4()
    key = {"Idempotency-Key": "create-3"}
    first = command("CreateInvite", f'{{"id":"{invite_id}","name":"Ada"}}', key)

    again = command("CreateInvite", f'{{ "name": "Ada",  "id": "{str(invite_id).upper()}" }}', key)

    assert (again.status, again.json) == (first.status, first.json)


def test_two_clients_choosing_the_same_key_do_not_share_it(stack: Stack) -> None:
    invite_id = create_invite()
    key = {"Idempotency-Key": "answer"}

    assert command("AcceptInvite", {"id": str(invite_id)}, key).status == 200
    other = command("DeclineInvite", {"id": str(create_invite(email=GUEST_EMAIL))}, key, claims=OWNER_CLAIMS)

    assert other.status == 200
    assert other.json["events"] == [{"type": "InviteDeclined", "version": 2}]


# Ten concurrent sends of one key and body: tests/e2e/test_http_edges.py, over the socket, where each
# request runs in its own execution environment as on Lambda.


# 503 with Retry-After


def test_a_command_that_loses_every_concurrency_retry_is_503_with_retry_after(stack: Stack) -> None:
    invite_id = create_invite()
    contended = ContendedClient(stack.client)
    handler = CommandHandler(
        stack.container.registry,
        SealingEventStore(DynamoDBEventStore(cast("DynamoDBClient", contended), EVENTS_TABLE), stack.container.sealer),
        sleep=lambda seconds: None,
    )
    stack.container.__dict__["command_handler"] = handler

    answer = command("AcceptInvite", {"id": str(invite_id)})

    problem = assert_problem(answer, 503, title="Too Much Contention")
    assert problem["type"] == "https://horizon.dev/problems/too-much-contention"
    assert answer.header("Retry-After") == str(RETRY_AFTER_SECONDS)
    assert len(stack.events_of(invite_id)) == 1


@pytest.mark.parametrize("target", ["command", "query"])
def test_dynamodb_throttling_is_503_with_retry_after_and_its_own_type(stack: Stack, target: str) -> None:
    throttled = cast("DynamoDBClient", ThrottledClient(stack.client))
    invite_id = create_invite()
    stack.container.__dict__["command_handler"] = CommandHandler(
        stack.container.registry, DynamoDBEventStore(throttled, EVENTS_TABLE)
    )
    stack.container.__dict__["read_store"] = DynamoDBReadStore(throttled, READ_TABLE)

    if target == "command":
        answer = command("AcceptInvite", {"id": str(invite_id)})
    else:
        answer = call("GET", f"/invitations/{invite_id}")

    problem = assert_problem(answer, 503, title="Throttled")
    assert problem["type"] == "https://horizon.dev/problems/throttled"
    assert answer.header("Retry-After") == str(RETRY_AFTER_SECONDS)


def test_a_domain_rule_stays_409(stack: Stack) -> None:
    invite_id = create_invite()
    assert command("DeclineInvite", {"id": str(invite_id)}).status == 200

    problem = assert_problem(command("AcceptInvite", {"id": str(invite_id)}), 409, title="Rejected")

    assert problem["type"] == "https://horizon.dev/problems/rejected"


# X-Correlation-Id


def test_a_correlation_id_of_128_printable_characters_is_carried_into_the_event(stack: Stack) -> None:
    invite_id = uuid4()
    correlation = "c" * 127 + "~"

    answer = command("CreateInvite", {"id": str(invite_id), "name": "Ada"}, {"X-Correlation-Id": correlation})

    assert answer.status == 200
    assert stack.events_of(invite_id)[0].metadata.correlation_id == correlation


@pytest.mark.parametrize(
    "correlation", ["c" * 129, "c" * 60_000, "trace\x00", "trace\nInjected: header", "tab\there", "caf\u00e9"]
)
def test_a_long_or_unprintable_correlation_id_is_400_and_stores_nothing(stack: Stack, correlation: str) -> None:
    answer = command("CreateInvite", {"id": str(uuid4()), "name": "Ada"}, {"X-Correlation-Id": correlation})

    problem = assert_problem(answer, 400)
    assert "X-Correlation-Id" in problem["detail"]
    assert stack.event_count() == 0
