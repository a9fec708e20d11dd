"""The query function's HTTP contract: read models, histories, health and the OpenAPI document."""

from __future__ import annotations

import threading
from dataclasses import replace
from urllib.parse import quote
from uuid import UUID, uuid4

import pytest

from domain.guest_list import InvitationView
from domain.invitation import ConfirmInvite
from functions import composition
from horizon.readstore import Write
from tests.integration.http_support import GUEST_LIMIT, Stack, assert_problem, call, command, create_invite, stack
from tests.principals import as_saga

__all__ = ["stack"]  # the fixture, imported for pytest to find

COMMANDS = ("CreateInvite", "AcceptInvite", "DeclineInvite")


def store_views(count: int) -> list[UUID]:
    """Write `count` invitation read models straight to the read store; return their ids in key order."""
    ids = [uuid4() for _ in range(count)]
    writes = [
        Write(
            "Invitation",
            str(i),
            InvitationView(id=i, name=f"guest {n}", status="invited", version=1).model_dump(mode="json"),
            0,
        )
        for n, i in enumerate(ids)
    ]
    composition.container().read_store.commit(writes)
    return sorted(ids, key=str)


def test_an_unknown_invitation_is_not_found(stack: Stack) -> None:
    invite_id = uuid4()
    problem = assert_problem(call("GET", f"/invitations/{invite_id}"), 404)
    assert str(invite_id) in problem["detail"]


def test_an_invitation_id_that_is_not_a_uuid_is_unprocessable(stack: Stack) -> None:
    problem = assert_problem(call("GET", "/invitations/not-a-uuid"), 422, title="Validation Failed")
    assert [e["loc"] for e in problem["errors"]] == ["path.invitation_id"]


def test_a_stored_invitation_is_served_as_its_view(stack: Stack) -> None:
    [invite_id] = store_views(1)
    answer = call("GET", f"/invitations/{invite_id}")
    assert answer.status == 200
    assert answer.json == {"id": str(invite_id), "name": "guest 0", "age": None, "status": "invited", "version": 1}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_a_page_size_outside_1_to_100_is_unprocessable(stack: Stack, limit: str) -> None:
    problem = assert_problem(call("GET", f"/invitations?limit={limit}"), 422, title="Validation Failed")
    assert [e["loc"] for e in problem["errors"]] == ["query.limit"]


@pytest.mark.parametrize("cursor", ["garbage", "gA=="])
def test_a_cursor_the_store_did_not_hand_out_is_a_bad_request(stack: Stack, cursor: str) -> None:
    problem = assert_problem(call("GET", f"/invitations?cursor={cursor}"), 400)
    assert "cursor" in problem["detail"]


@pytest.mark.parametrize("cursor", ["", "!!!!", "gA", quote("é"), "%00"])
def test_a_cursor_that_is_not_url_safe_base64_is_refused_by_the_documented_schema(stack: Stack, cursor: str) -> None:
    problem = assert_problem(call("GET", f"/invitations?cursor={cursor}"), 422, title="Validation Failed")
    assert [e["loc"] for e in problem["errors"]] == ["query.cursor"]


def test_a_cursor_over_1024_characters_is_unprocessable(stack: Stack) -> None:
    problem = assert_problem(call("GET", f"/invitations?cursor={'A' * 1025}"), 422, title="Validation Failed")
    assert [e["loc"] for e in problem["errors"]] == ["query.cursor"]


def test_an_empty_store_lists_no_invitations(stack: Stack) -> None:
    answer = call("GET", "/invitations")
    assert answer.status == 200
    assert answer.json == {"items": [], "next_cursor": None}


def test_paging_through_invitations_returns_each_once_in_id_order(stack: Stack) -> None:
    ids = store_views(5)
    seen: list[str] = []
    pages = 0
    target = "/invitations?limit=2"
    while True:
        answer = call("GET", target)
        assert answer.status == 200, answer.raw
        page = answer.json
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        pages += 1
        if page["next_cursor"] is None:
            break
        target = f"/invitations?limit=2&cursor={quote(page['next_cursor'], safe='')}"
        assert pages < 10, "the cursor never ran out"
    assert seen == [str(i) for i in ids]
    assert pages >= 3


def test_one_page_of_100_holds_every_invitation(stack: Stack) -> None:
    ids = store_views(5)
    answer = call("GET", "/invitations?limit=100")
    assert [item["id"] for item in answer.json["items"]] == [str(i) for i in ids]
    assert answer.json["next_cursor"] is None


def test_the_guest_list_of_an_empty_store_is_all_zeros(stack: Stack) -> None:
    answer = call("GET", "/guestlist")
    assert answer.status == 200
    assert answer.json == {
        "num_guests": 0,
        "num_accepted": 0,
        "num_declined": 0,
        "num_confirmed": 0,
        "num_denied": 0,
        "guest_limit": GUEST_LIMIT,
    }


def test_health_answers_ok(stack: Stack) -> None:
    answer = call("GET", "/health")
    assert answer.status == 200
    assert answer.json == {"status": "ok"}


def test_the_openapi_document_lists_every_command_and_query(stack: Stack) -> None:
    answer = call("GET", "/openapi.json")
    assert answer.status == 200
    assert answer.header("Content-Type") == "application/json"
    document = answer.json
    assert "openapi" in document
    paths = set(document["paths"])
    assert {f"/commands/{name}" for name in COMMANDS} <= paths
    assert {"/invitations", "/invitations/{invitation_id}", "/guestlist", "/health"} <= paths
    assert "/aggregates/{aggregate_type}/{aggregate_id}/events" in paths
    assert all("post" in document["paths"][f"/commands/{name}"] for name in COMMANDS)


def test_the_openapi_document_describes_the_create_invite_body(stack: Stack) -> None:
    document = call("GET", "/openapi.json").json
    body = document["paths"]["/commands/CreateInvite"]["post"]["requestBody"]["content"]["application/json"]
    schema = body["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert {"id", "name", "age"} <= set(schema["properties"])
    assert {"id", "name"} <= set(schema["required"])


def test_the_history_of_an_unknown_aggregate_type_is_not_found(stack: Stack) -> None:
    problem = assert_problem(call("GET", f"/aggregates/Nope/{uuid4()}/events"), 404)
    assert "Nope" in problem["detail"]


def test_the_history_of_a_missing_invitation_is_not_found(stack: Stack) -> None:
    assert_problem(call("GET", f"/aggregates/Invitation/{uuid4()}/events"), 404)


def test_a_history_id_that_is_not_a_uuid_is_unprocessable(stack: Stack) -> None:
    assert_problem(call("GET", "/aggregates/Invitation/nope/events"), 422, title="Validation Failed")


def test_the_history_of_an_invitation_is_in_version_order_with_its_correlation(stack: Stack) -> None:
    invite_id = create_invite("Ada", 36)
    headers = {"X-Correlation-Id": "trace-7"}
    assert command("AcceptInvite", {"id": str(invite_id)}, headers).status == 200
    stack.container.command_handler.handle(ConfirmInvite(id=invite_id), as_saga(correlation_id="trace-7"))
    answer = call("GET", f"/aggregates/Invitation/{invite_id}/events")
    assert answer.status == 200
    events = answer.json["events"]
    assert [(e["type"], e["version"]) for e in events] == [
        ("InviteCreated", 1),
        ("InviteAccepted", 2),
        ("InviteConfirmed", 3),
    ]
    assert all(e["aggregate_id"] == str(invite_id) for e in events)
    assert all(e["metadata"]["correlation_id"] for e in events)
    assert [e["metadata"]["correlation_id"] for e in events[1:]] == ["trace-7", "trace-7"]
    assert events[0]["data"] == {"name": "Ada", "age": 36, "email": None}


def test_min_version_answers_at_once_when_the_view_is_there(stack: Stack) -> None:
    (invite_id,) = store_views(1)
    answer = call("GET", f"/invitations/{invite_id}?min_version=1")
    assert answer.status == 200
    assert answer.json["version"] == 1


def test_min_version_ahead_of_the_view_answers_the_view_as_it_is_after_the_wait(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.container, "settings", replace(stack.container.settings, read_wait_seconds=0.05))
    (invite_id,) = store_views(1)
    answer = call("GET", f"/invitations/{invite_id}?min_version=2")
    assert answer.status == 200
    assert answer.json["version"] == 1


def test_min_version_waits_for_the_projection_to_catch_up(stack: Stack) -> None:
    # GIVEN a view at v1 that a "projector" moves to v2 while the query waits
    (invite_id,) = store_views(1)
    advanced = InvitationView(id=invite_id, name="guest 0", status="accepted", version=2).model_dump(mode="json")
    projector = threading.Timer(
        0.1, lambda: composition.container().read_store.commit([Write("Invitation", str(invite_id), advanced, 1)])
    )
    projector.start()
    try:
        # WHEN the client asks for v2
        answer = call("GET", f"/invitations/{invite_id}?min_version=2")
    finally:
        projector.join()
    # THEN one request answers with the caught-up view
    assert answer.status == 200
    assert (answer.json["version"], answer.json["status"]) == (2, "accepted")


def test_min_version_below_one_is_unprocessable(stack: Stack) -> None:
    assert_problem(call("GET", f"/invitations/{uuid4()}?min_version=0"), 422)


def test_swagger_ui_is_served_at_docs_without_a_token_and_the_root_points_there(stack: Stack) -> None:
    page = call("GET", "/docs", claims=None)
    assert page.status == 200
    assert page.header("content-type") == "text/html"
    assert "SwaggerUIBundle" in page.raw.decode()
    assert '"/commands/CreateInvite"' in page.raw.decode()
    root = call("GET", "/", claims=None)
    assert root.status == 307
    assert root.header("location") == "docs"
