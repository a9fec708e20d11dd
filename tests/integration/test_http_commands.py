"""The command function's HTTP contract: POST /commands/{CommandType}, answered by a 200 or a problem."""

from __future__ import annotations

import time
from typing import Any
from uuid import uuid4

import pytest

from horizon.dynamodb.tables import EXPIRES
from horizon.http.resolver import MAX_BODY_BYTES
from horizon.idempotency import COLLECTION, RETENTION_SECONDS
from tests.integration.http_support import (
    READ_TABLE,
    Stack,
    assert_problem,
    call,
    command,
    create_invite,
    field_errors,
    stack,
)

__all__ = ["stack"]  # the fixture, imported for pytest to find


def test_create_invite_answers_the_new_version_and_its_event(stack: Stack) -> None:
    invite_id = uuid4()
    answer = command("CreateInvite", {"id": str(invite_id), "name": "Ada", "age": 36})
    assert answer.status == 200
    assert answer.header("Content-Type") == "application/json"
    assert answer.json == {
        "aggregate_type": "Invitation",
        "aggregate_id": str(invite_id),
        "version": 1,
        "events": [{"type": "InviteCreated", "version": 1}],
    }


def test_create_invite_stores_the_event(stack: Stack) -> None:
    invite_id = create_invite("Ada", 36)
    [event] = stack.events_of(invite_id)
    assert (event.type, event.version, event.data) == ("InviteCreated", 1, {"name": "Ada", "age": 36, "email": None})


def test_accepting_twice_is_a_no_op_the_second_time(stack: Stack) -> None:
    invite_id = create_invite()
    first = command("AcceptInvite", {"id": str(invite_id)})
    second = command("AcceptInvite", {"id": str(invite_id)})
    assert first.status == 200
    assert first.json["events"] == [{"type": "InviteAccepted", "version": 2}]
    assert second.status == 200
    assert second.json["events"] == []
    assert second.json["version"] == first.json["version"] == 2
    assert len(stack.events_of(invite_id)) == 2


def test_the_correlation_id_header_is_kept_on_the_event(stack: Stack) -> None:
    invite_id = uuid4()
    answer = command("CreateInvite", {"id": str(invite_id), "name": "Ada"}, {"X-Correlation-Id": "trace-1"})
    assert answer.status == 200
    assert stack.events_of(invite_id)[0].metadata.correlation_id == "trace-1"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param("{", "the body is not valid JSON", id="malformed"),
        pytest.param('{"id": ', "the body is not valid JSON", id="truncated"),
        pytest.param("[]", "the body must be a JSON object", id="array"),
        pytest.param('"x"', "the body must be a JSON object", id="string"),
        pytest.param("null", "the body must be a JSON object", id="null"),
        pytest.param("", "the body must be a JSON object", id="empty"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(stack: Stack, body: str, detail: str) -> None:
    problem = assert_problem(command("CreateInvite", body), 400, title="Malformed JSON")
    assert problem["detail"] == detail
    assert stack.event_count() == 0


def test_an_unknown_command_type_is_not_found(stack: Stack) -> None:
    problem = assert_problem(command("LaunchRocket", {"id": str(uuid4())}), 404, title="Unknown Command")
    assert "LaunchRocket" in problem["detail"]


def test_an_unknown_route_is_not_found(stack: Stack) -> None:
    problem = assert_problem(call("GET", "/nowhere"), 404, title="Not Found")
    assert "/nowhere" in problem["detail"]


def test_accepting_a_missing_invite_is_not_found(stack: Stack) -> None:
    invite_id = uuid4()
    problem = assert_problem(command("AcceptInvite", {"id": str(invite_id)}), 404)
    assert str(invite_id) in problem["detail"]
    assert stack.event_count() == 0


@pytest.mark.parametrize(
    ("method", "target", "allow"),
    [("GET", "/commands/CreateInvite", "POST"), ("DELETE", "/invitations", "GET"), ("PUT", "/health", "GET")],
)
def test_a_wrong_method_is_not_allowed_and_names_the_right_one(
    stack: Stack, method: str, target: str, allow: str
) -> None:
    answer = call(method, target)
    problem = assert_problem(answer, 405, title="Method Not Allowed")
    assert answer.header("Allow") == allow
    assert method in problem["detail"]


def test_creating_the_same_invite_twice_conflicts(stack: Stack) -> None:
    invite_id = create_invite()
    problem = assert_problem(command("CreateInvite", {"id": str(invite_id), "name": "Bo"}), 409, title="Rejected")
    assert "already exists" in problem["detail"]
    assert problem["aggregate_type"] == "Invitation"
    assert len(stack.events_of(invite_id)) == 1


def test_declining_after_accepting_conflicts(stack: Stack) -> None:
    invite_id = create_invite("Ada")
    assert command("AcceptInvite", {"id": str(invite_id)}).status == 200
    problem = assert_problem(command("DeclineInvite", {"id": str(invite_id)}), 409, title="Rejected")
    assert "already accepted" in problem["detail"]
    assert len(stack.events_of(invite_id)) == 2


def test_accepting_after_declining_conflicts(stack: Stack) -> None:
    invite_id = create_invite("Ada")
    assert command("DeclineInvite", {"id": str(invite_id)}).status == 200
    problem = assert_problem(command("AcceptInvite", {"id": str(invite_id)}), 409, title="Rejected")
    assert "already declined" in problem["detail"]
    assert len(stack.events_of(invite_id)) == 2


def test_a_body_over_64_kib_is_too_large(stack: Stack) -> None:
    body = {"id": str(uuid4()), "name": "x" * MAX_BODY_BYTES}
    problem = assert_problem(command("CreateInvite", body), 413)
    assert str(MAX_BODY_BYTES) in problem["detail"]
    assert stack.event_count() == 0


def test_a_form_body_is_an_unsupported_media_type(stack: Stack) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = command("CreateInvite", f"id={uuid4()}&name=Ada", headers)
    problem = assert_problem(answer, 415, title="Unsupported Media Type")
    assert "application/json" in problem["detail"]
    assert stack.event_count() == 0


def test_a_json_content_type_with_a_charset_is_accepted(stack: Stack) -> None:
    body = {"id": str(uuid4()), "name": "Ada"}
    assert command("CreateInvite", body, {"Content-Type": "application/json; charset=utf-8"}).status == 200


def test_a_json_content_type_in_capitals_is_accepted(stack: Stack) -> None:
    body = {"id": str(uuid4()), "name": "Ada"}
    assert command("CreateInvite", body, {"Content-Type": "Application/JSON"}).status == 200


def test_a_structured_json_content_type_is_accepted(stack: Stack) -> None:
    body = {"id": str(uuid4()), "name": "Ada"}
    assert command("CreateInvite", body, {"Content-Type": "application/vnd.horizon+json"}).status == 200


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        pytest.param({"name": None}, "body.name", id="missing-name"),
        pytest.param({"age": "42"}, "body.age", id="age-as-string"),
        pytest.param({"age": 42.5}, "body.age", id="age-as-float"),
        pytest.param({"age": True}, "body.age", id="age-as-bool"),
        pytest.param({"id": "not-a-uuid"}, "body.id", id="bad-uuid"),
        pytest.param({"id": None}, "body.id", id="missing-id"),
        pytest.param({"guest_of": "Bo"}, "body.guest_of", id="unknown-field"),
        pytest.param({"name": "x" * 201}, "body.name", id="name-201-chars"),
        pytest.param({"name": ""}, "body.name", id="empty-name"),
        pytest.param({"age": 151}, "body.age", id="age-151"),
        pytest.param({"age": -1}, "body.age", id="negative-age"),
    ],
)
def test_a_body_of_the_wrong_shape_is_unprocessable(stack: Stack, change: dict[str, Any], loc: str) -> None:
    invite_id = uuid4()
    body: dict[str, Any] = {"id": str(invite_id), "name": "Ada", "age": 36, **change}
    body = {k: v for k, v in body.items() if v is not None}
    errors = field_errors(command("CreateInvite", body))
    assert loc in [e["loc"] for e in errors]
    assert all({"loc", "type", "msg"} <= e.keys() for e in errors)
    assert stack.event_count() == 0


def test_an_unprocessable_body_names_every_bad_field(stack: Stack) -> None:
    errors = field_errors(command("CreateInvite", {"id": "nope", "name": "", "age": 999}))
    assert {e["loc"] for e in errors} == {"body.id", "body.name", "body.age"}


def test_the_boundaries_of_name_and_age_are_accepted(stack: Stack) -> None:
    assert command("CreateInvite", {"id": str(uuid4()), "name": "x" * 200, "age": 150}).status == 200
    assert command("CreateInvite", {"id": str(uuid4()), "name": "x", "age": 0}).status == 200


def test_a_rejected_request_leaves_its_invite_without_history(stack: Stack) -> None:
    invite_id = uuid4()
    assert command("CreateInvite", {"id": str(invite_id), "name": "x" * 201}).status == 422
    assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}/events"), 404)


def test_the_same_idempotency_key_twice_stores_the_event_once(stack: Stack) -> None:
    invite_id = uuid4()
    body = {"id": str(invite_id), "name": "Ada"}
    first = command("CreateInvite", body, {"Idempotency-Key": "create-ada"})
    second = command("CreateInvite", body, {"Idempotency-Key": "create-ada"})
    assert first.status == second.status == 200
    assert second.json["version"] == first.json["version"] == 1
    assert second.json["events"] == first.json["events"]
    assert len(stack.events_of(invite_id)) == 1


def test_an_idempotency_key_makes_a_retried_accept_a_replay(stack: Stack) -> None:
    invite_id = create_invite()
    headers = {"Idempotency-Key": "accept-1"}
    first = command("AcceptInvite", {"id": str(invite_id)}, headers)
    second = command("AcceptInvite", {"id": str(invite_id)}, headers)
    assert first.json == second.json
    assert len(stack.events_of(invite_id)) == 2


def test_an_idempotency_key_is_kept_a_day_in_an_item_that_the_read_tables_time_to_live_deletes(stack: Stack) -> None:
    before = int(time.time())
    assert command("CreateInvite", {"id": str(uuid4()), "name": "Ada"}, {"Idempotency-Key": "day-1"}).status == 200

    query = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": COLLECTION}}}
    (record,) = stack.client.query(TableName=READ_TABLE, **query)["Items"]  # type: ignore[arg-type]
    assert before + RETENTION_SECONDS <= int(record[EXPIRES]["N"]) <= int(time.time()) + RETENTION_SECONDS
    ttl = stack.client.describe_time_to_live(TableName=READ_TABLE)["TimeToLiveDescription"]
    assert (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")) == ("ENABLED", EXPIRES)


def test_an_idempotency_key_of_128_characters_is_accepted(stack: Stack) -> None:
    answer = command("CreateInvite", {"id": str(uuid4()), "name": "Ada"}, {"Idempotency-Key": "k" * 128})
    assert answer.status == 200


def test_an_idempotency_key_over_128_characters_is_a_bad_request(stack: Stack) -> None:
    answer = command("CreateInvite", {"id": str(uuid4()), "name": "Ada"}, {"Idempotency-Key": "k" * 129})
    problem = assert_problem(answer, 400)
    assert "Idempotency-Key" in problem["detail"]
    assert stack.event_count() == 0


def test_an_empty_idempotency_key_is_a_bad_request(stack: Stack) -> None:
    answer = command("CreateInvite", {"id": str(uuid4()), "name": "Ada"}, {"Idempotency-Key": ""})
    assert_problem(answer, 400)
    assert stack.event_count() == 0


def test_an_idempotency_key_reused_for_another_command_is_unprocessable(stack: Stack) -> None:
    invite_id = create_invite()
    assert command("AcceptInvite", {"id": str(invite_id)}, {"Idempotency-Key": "k1"}).status == 200
    problem = assert_problem(command("DeclineInvite", {"id": str(invite_id)}, {"Idempotency-Key": "k1"}), 422)
    assert "already used for AcceptInvite" in problem["detail"]
    assert len(stack.events_of(invite_id)) == 2
