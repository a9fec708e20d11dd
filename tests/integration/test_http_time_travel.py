"""Time travel and history over HTTP: state at a version or a time, paged events, and every bad value as a 4xx."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import pytest

from domain.invitation import ConfirmInvite
from horizon.events import Event, Metadata
from tests.integration.http_support import Stack, assert_problem, call, command, create_invite, stack
from tests.principals import as_saga

__all__ = ["stack"]  # the fixture, imported for pytest to find


def story(stack: Stack) -> UUID:
    """An invitation at v3: created, accepted, confirmed."""
    invite_id = create_invite("Ada", 36)
    assert command("AcceptInvite", {"id": str(invite_id)}).status == 200
    # The saga's decision: no client may send ConfirmInvite.
    stack.container.command_handler.handle(ConfirmInvite(id=invite_id), as_saga())
    return invite_id


def append_raw(stack: Stack, invite_id: UUID, event_type: str, data: dict[str, Any], **envelope: Any) -> None:
    """Store an event as older (or broken) code would have, through the store's public append."""
    current = stack.events_of(invite_id)
    event = Event(
        aggregate_type="Invitation",
        aggregate_id=invite_id,
        version=len(current) + 1,
        type=event_type,
        data=data,
        metadata=Metadata(correlation_id="old", causation_id="old", command="Old"),
        **envelope,
    )
    stack.container.event_store.append([event], len(current))


def test_the_current_state_is_the_state_model_at_the_newest_version(stack: Stack) -> None:
    invite_id = story(stack)

    answer = call("GET", f"/aggregates/Invitation/{invite_id}")

    assert answer.status == 200
    assert answer.json == {
        "aggregate_type": "Invitation",
        "aggregate_id": str(invite_id),
        "version": 3,
        "state": {
            "name": "Ada",
            "age": 36,
            "status": "confirmed",
            "decline_reason": None,
            "email": None,
            "forgotten": False,
        },
    }


@pytest.mark.parametrize(("version", "status"), [(1, "invited"), (2, "accepted"), (3, "confirmed")])
def test_the_state_at_a_version_is_the_state_right_after_it(stack: Stack, version: int, status: str) -> None:
    invite_id = story(stack)

    answer = call("GET", f"/aggregates/Invitation/{invite_id}?version={version}")

    assert answer.status == 200
    assert (answer.json["version"], answer.json["state"]["status"]) == (version, status)


def test_the_state_as_of_a_time_is_the_state_after_the_last_event_by_then(stack: Stack) -> None:
    invite_id = story(stack)
    second = stack.events_of(invite_id)[1].timestamp

    answer = call("GET", f"/aggregates/Invitation/{invite_id}?as_of={quote(second.isoformat())}")

    assert answer.status == 200
    assert (answer.json["version"], answer.json["state"]["status"]) == (2, "accepted")


def test_a_time_before_the_first_event_is_not_found_with_the_current_version(stack: Stack) -> None:
    invite_id = story(stack)
    before = stack.events_of(invite_id)[0].timestamp - timedelta(seconds=1)

    problem = assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}?as_of={quote(before.isoformat())}"), 404)

    assert problem["current_version"] == 3


def test_a_version_past_the_end_is_not_found_with_the_current_version(stack: Stack) -> None:
    invite_id = story(stack)
    answer = call("GET", f"/aggregates/Invitation/{invite_id}?version=4")

    problem = assert_problem(answer, 404, title="Version Not Found")

    assert problem["current_version"] == 3
    assert "version 4" in problem["detail"]


@pytest.mark.parametrize(
    "query",
    ["version=two", "version=1.5", "version=-1", "version=0", "as_of=yesterday", "as_of=2026-11-20T09:30:00"],
    ids=["word", "fraction", "negative", "zero", "not-a-time", "no-offset"],
)
def test_a_malformed_version_or_time_is_unprocessable(stack: Stack, query: str) -> None:
    invite_id = story(stack)

    problem = assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}?{query}"), 422, title="Validation Failed")

    assert [e["loc"] for e in problem["errors"]] == [f"query.{query.split('=')[0]}"]


def test_a_version_and_a_time_together_are_a_bad_request(stack: Stack) -> None:
    invite_id = story(stack)
    now = quote(datetime.now(UTC).isoformat())

    assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}?version=1&as_of={now}"), 400)


@pytest.mark.parametrize("suffix", ["", "/events"])
def test_an_unknown_aggregate_type_or_a_missing_aggregate_is_not_found(stack: Stack, suffix: str) -> None:
    assert "Nope" in assert_problem(call("GET", f"/aggregates/Nope/{uuid4()}{suffix}"), 404)["detail"]
    assert_problem(call("GET", f"/aggregates/Invitation/{uuid4()}{suffix}"), 404)


def test_history_pages_follow_version_order_until_the_cursor_runs_out(stack: Stack) -> None:
    invite_id = story(stack)
    seen: list[int] = []
    target: str | None = f"/aggregates/Invitation/{invite_id}/events?limit=2"
    while target:
        answer = call("GET", target)
        assert answer.status == 200, answer.raw
        seen.extend(e["version"] for e in answer.json["events"])
        cursor = answer.json["next_cursor"]
        target = f"/aggregates/Invitation/{invite_id}/events?limit=2&cursor={cursor}" if cursor else None

    assert seen == [1, 2, 3]


def test_history_between_two_versions_is_inclusive(stack: Stack) -> None:
    invite_id = story(stack)

    answer = call("GET", f"/aggregates/Invitation/{invite_id}/events?from_version=2&to_version=2")

    assert answer.status == 200
    assert [(e["type"], e["version"]) for e in answer.json["events"]] == [("InviteAccepted", 2)]
    assert answer.json["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from_version=x", "from_version"),
        ("from_version=-1", "from_version"),
        ("to_version=0", "to_version"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=1e3", "limit"),
    ],
)
def test_a_malformed_history_bound_is_unprocessable(stack: Stack, query: str, field: str) -> None:
    invite_id = story(stack)

    problem = assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}/events?{query}"), 422)

    assert [e["loc"] for e in problem["errors"]] == [f"query.{field}"]


def test_a_history_starting_after_it_ends_is_a_bad_request(stack: Stack) -> None:
    invite_id = story(stack)

    problem = assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}/events?from_version=3&to_version=2"), 400)

    assert "from_version 3 is after to_version 2" in problem["detail"]


@pytest.mark.parametrize("query", ["from_version=4", "to_version=9"])
def test_a_history_bound_past_the_end_is_not_found_with_the_current_version(stack: Stack, query: str) -> None:
    invite_id = story(stack)

    problem = assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}/events?{query}"), 404)

    assert problem["current_version"] == 3


@pytest.mark.parametrize("cursor", ["garbage", "YWZ0ZXI6MA==", "YWZ0ZXI6LTE="])
def test_a_foreign_history_cursor_is_a_bad_request(stack: Stack, cursor: str) -> None:
    invite_id = story(stack)

    problem = assert_problem(call("GET", f"/aggregates/Invitation/{invite_id}/events?cursor={cursor}"), 400)

    assert "cursor" in problem["detail"]


def test_an_event_with_a_field_the_code_dropped_no_longer_bricks_its_aggregate(stack: Stack) -> None:
    invite_id = create_invite("Hades")
    append_raw(stack, invite_id, "InviteAccepted", {"plus_one": "Persephone"})

    result = stack.container.command_handler.handle(ConfirmInvite(id=invite_id), as_saga())

    assert result.version == 3


def test_a_version_1_decline_reads_with_its_upcast_reason(stack: Stack) -> None:
    invite_id = create_invite("Zeus")
    append_raw(stack, invite_id, "InviteDeclined", {})

    answer = call("GET", f"/aggregates/Invitation/{invite_id}")

    assert answer.json["state"] == {
        "name": "Zeus",
        "age": 36,
        "status": "declined",
        "decline_reason": "not given",
        "email": None,
        "forgotten": False,
    }


@pytest.mark.parametrize(
    ("event_type", "schema_version"), [("InviteWaitlisted", 1), ("InviteAccepted", 7)], ids=["unregistered", "future"]
)
def test_an_unreadable_history_is_a_logged_500_naming_the_event(
    stack: Stack, caplog: pytest.LogCaptureFixture, event_type: str, schema_version: int
) -> None:
    invite_id = create_invite("Poseidon")
    append_raw(stack, invite_id, event_type, {}, schema_version=schema_version)
    facts = {
        "aggregate_type": "Invitation",
        "aggregate_id": str(invite_id),
        "version": 2,
        "event_type": event_type,
        "schema_version": schema_version,
    }

    # The functions route the framework's records to their Powertools handler, not to the root logger that
    # caplog listens on; listen on the framework's logger itself.
    framework = logging.getLogger("horizon")
    framework.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.ERROR):
            answers = [
                command("AcceptInvite", {"id": str(invite_id)}),
                call("GET", f"/aggregates/Invitation/{invite_id}"),
            ]
    finally:
        framework.removeHandler(caplog.handler)

    for answer in answers:
        problem = assert_problem(answer, 500, title="Unreadable History")
        assert {k: problem[k] for k in facts} == facts
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and "unreadable history" in r.getMessage()]
    assert len(logged) == 2
    assert all({k: getattr(r, k) for k in facts} == facts for r in logged)


def test_the_openapi_document_declares_the_time_travel_routes_and_their_problems(stack: Stack) -> None:
    paths = call("GET", "/openapi.json").json["paths"]

    for path in ("/aggregates/{aggregate_type}/{aggregate_id}", "/aggregates/{aggregate_type}/{aggregate_id}/events"):
        responses = paths[path]["get"]["responses"]
        assert {"200", "400", "404", "422", "500"} <= set(responses)
        assert "application/problem+json" in responses["404"]["content"]
    parameters = {p["name"] for p in paths["/aggregates/{aggregate_type}/{aggregate_id}/events"]["get"]["parameters"]}
    assert {"from_version", "to_version", "limit", "cursor"} <= parameters
    ok = paths["/aggregates/{aggregate_type}/{aggregate_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "AggregateState" in str(ok["schema"])
