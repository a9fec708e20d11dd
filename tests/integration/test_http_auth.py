"""Who may call what over HTTP: claims from API Gateway's JWT authorizer, 401 and 403 problems, internal commands."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from functions import composition
from functions.api import OPEN_ROUTES
from tests.integration.http_support import (
    GUEST_CLAIMS,
    GUEST_EMAIL,
    HOST_CLAIMS,
    OWNER_CLAIMS,
    Stack,
    assert_problem,
    call,
    command,
    create_invite,
    stack,
)

__all__ = ["stack"]  # the fixture, imported for pytest to find

NO_ROLES = {**HOST_CLAIMS, "sub": "stranger", "cognito:groups": "[]"}
SOMEONE = "6b1f9a3e-0000-4000-8000-0000000000aa"  # fixed: pytest-xdist workers must collect the same ids
QUERIES = ["/invitations", f"/invitations/{SOMEONE}", "/guestlist", f"/aggregates/Invitation/{SOMEONE}/events"]


@pytest.mark.parametrize("name", ["ConfirmInvite", "DenyInvite"])
@pytest.mark.parametrize("claims", [HOST_CLAIMS, GUEST_CLAIMS, NO_ROLES], ids=["host", "guest", "no roles"])
def test_an_internal_command_answers_404_whatever_the_token(stack: Stack, name: str, claims: dict[str, str]) -> None:
    invite_id = create_invite("Ada")
    assert command("AcceptInvite", {"id": str(invite_id)}).status == 200

    problem = assert_problem(command(name, {"id": str(invite_id)}, claims=claims), 404, title="Unknown Command")

    assert name in problem["detail"]
    assert [event.type for event in stack.events_of(invite_id)] == ["InviteCreated", "InviteAccepted"]


def test_internal_commands_are_not_in_the_openapi_document(stack: Stack) -> None:
    paths = set(call("GET", "/openapi.json", claims=None).json["paths"])

    assert {"/commands/CreateInvite", "/commands/AcceptInvite", "/commands/DeclineInvite"} <= paths
    assert not {"/commands/ConfirmInvite", "/commands/DenyInvite"} & paths


def test_a_guest_may_not_create_an_invite(stack: Stack) -> None:
    invite_id = uuid4()

    problem = assert_problem(command("CreateInvite", {"id": str(invite_id), "name": "Ada"}, claims=GUEST_CLAIMS), 403)

    assert "hosts" in problem["detail"]
    assert stack.event_count() == 0


@pytest.mark.parametrize("name", ["AcceptInvite", "DeclineInvite"])
def test_a_guest_may_answer_the_invite_with_their_verified_email_and_read_it(stack: Stack, name: str) -> None:
    invite_id = create_invite("Ada", email=GUEST_EMAIL)

    assert command(name, {"id": str(invite_id)}, claims=OWNER_CLAIMS).status == 200
    for projector in stack.container.projectors:  # no stream here: project the history by hand
        projector.process(stack.events_of(invite_id))

    view = call("GET", f"/invitations/{invite_id}", claims=OWNER_CLAIMS).json
    assert (view["name"], view["version"]) == ("Ada", 2)


@pytest.mark.parametrize("name", ["AcceptInvite", "DeclineInvite"])
def test_a_guest_may_not_answer_nor_read_an_invite_that_is_not_theirs(stack: Stack, name: str) -> None:
    invite_id = create_invite("Ada", email="ada@example.org")

    for answer in (
        command(name, {"id": str(invite_id)}, claims=OWNER_CLAIMS),
        call("GET", f"/invitations/{invite_id}", claims=OWNER_CLAIMS),
    ):
        problem = assert_problem(answer, 403)
        assert b"ada" not in answer.raw.lower()
        assert "or to own it" in problem["detail"]
    assert [event.type for event in stack.events_of(invite_id)] == ["InviteCreated"]


@pytest.mark.parametrize("name", ["CreateInvite", "AcceptInvite", "DeclineInvite"])
def test_a_token_without_roles_is_forbidden_every_command(stack: Stack, name: str) -> None:
    body = {"id": str(uuid4()), "name": "Ada"} if name == "CreateInvite" else {"id": str(create_invite())}

    assert_problem(command(name, body, claims=NO_ROLES), 403)


@pytest.mark.parametrize("target", ["/commands/CreateInvite", "/commands/AcceptInvite", *QUERIES])
def test_a_request_without_verified_claims_is_401_with_a_bearer_challenge(stack: Stack, target: str) -> None:
    method = "POST" if target.startswith("/commands/") else "GET"

    answer = call(method, target, {"id": str(uuid4()), "name": "Ada"} if method == "POST" else b"", claims=None)

    assert_problem(answer, 401)
    assert answer.header("WWW-Authenticate") == "Bearer"
    assert stack.event_count() == 0


@pytest.mark.parametrize("target", QUERIES)
@pytest.mark.parametrize("claims", [GUEST_CLAIMS, OWNER_CLAIMS], ids=["guest", "guest with a verified e-mail"])
def test_a_guest_may_not_query_beyond_their_own_invitation(stack: Stack, target: str, claims: dict[str, str]) -> None:
    create_invite("Ada", invite_id=UUID(SOMEONE), email=GUEST_EMAIL if claims is GUEST_CLAIMS else None)

    assert_problem(call("GET", target, claims=claims), 403)


def test_a_hosts_read_of_one_invitation_builds_nothing_of_the_write_side_and_an_owners_read_does(
    stack: Stack,
) -> None:
    invite_id = create_invite("Ada", email=GUEST_EMAIL)
    for projector in stack.container.projectors:
        projector.process(stack.events_of(invite_id))
    # GIVEN a fresh container of the query function, as a cold start has
    fresh = composition.Container(stack.container.settings, stack.client, stack.container.kms)
    composition.use(fresh)

    assert call("GET", f"/invitations/{invite_id}").json["name"] == "Ada"
    assert not {"command_handler", "event_store", "kms", "sealer"} & set(vars(fresh))

    assert call("GET", f"/invitations/{invite_id}", claims=OWNER_CLAIMS).json["name"] == "Ada"
    assert {"command_handler", "event_store", "kms"} <= set(vars(fresh))


def test_hosts_read_everything(stack: Stack) -> None:
    invite_id = create_invite("Ada")

    for target in ["/invitations", "/guestlist", f"/aggregates/Invitation/{invite_id}/events"]:
        assert call("GET", target).status == 200, target


@pytest.mark.parametrize("target", ["/health", "/openapi.json"])
def test_health_and_the_openapi_document_need_no_token(stack: Stack, target: str) -> None:
    assert call("GET", target, claims=None).status == 200


def test_each_event_records_who_sent_the_command_from_the_verified_claims(stack: Stack) -> None:
    invite_id = create_invite("Ada", email=GUEST_EMAIL)
    assert command("AcceptInvite", {"id": str(invite_id)}, claims=OWNER_CLAIMS).status == 200

    created, accepted = stack.events_of(invite_id)

    assert created.metadata.actor == {"subject": "host-1", "roles": ["hosts"]}
    assert accepted.metadata.actor == {"subject": "guest-1", "roles": ["guests"]}


def test_groups_sent_as_a_json_list_are_read_too(stack: Stack) -> None:
    claims = {**HOST_CLAIMS, "cognito:groups": ["guests", "hosts"]}

    assert command("CreateInvite", {"id": str(uuid4()), "name": "Ada"}, claims=claims).status == 200  # type: ignore[arg-type]


def test_the_openapi_document_declares_the_bearer_scheme_once_and_only_protected_routes_name_it(
    stack: Stack,
) -> None:
    document = call("GET", "/openapi.json", claims=None).json

    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito ID token on AWS; `make token` locally",
    }
    assert "security" not in document
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            is_open = (method.upper(), path) in OPEN_ROUTES
            assert operation.get("security") == (None if is_open else [{"bearer": []}]), (method, path)
            assert is_open or {"401", "403"} <= set(operation["responses"]), (method, path)


def test_the_openapi_document_says_who_owns_what_in_its_403s(stack: Stack) -> None:
    paths = call("GET", "/openapi.json", claims=None).json["paths"]

    assert "owns" in paths["/commands/AcceptInvite"]["post"]["responses"]["403"]["description"]
    assert "owns" not in paths["/commands/CreateInvite"]["post"]["responses"]["403"]["description"]
    assert "guest" in paths["/invitations/{invitation_id}"]["get"]["responses"]["403"]["description"]
