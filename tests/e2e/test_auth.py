"""The JWT authorizer: API Gateway's on AWS (`make smoke`), the front door's with `make token`'s key locally."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from horizon.local.auth import issue
from tests.e2e.client import Answer, Client
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e


def assert_401(answer: Answer) -> None:
    """A 401 in one of the two bodies the contract declares: a problem, or API Gateway's authorizer's message."""
    assert answer.status == 401, answer.body
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    if answer.headers["Content-Type"] == "application/problem+json":
        assert answer.body["status"] == 401
    else:
        assert answer.body == {"message": "Unauthorized"}


def create(stack: Client) -> str:
    invite_id = str(uuid.uuid4())
    assert stack.command("CreateInvite", id=invite_id, name="Hera").status == 200
    return invite_id


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic aG9zdDpob3N0", "Bearer not.a.jwt", "Bearer " + "x" * 40],
    ids=["missing", "empty bearer", "another scheme", "malformed", "garbage"],
)
def test_a_missing_or_malformed_token_is_401_for_commands_and_queries(stack: Client, authorization: str | None) -> None:
    anonymous = stack.as_(None)
    headers = {} if authorization is None else {"Authorization": authorization}
    invite_id = str(uuid.uuid4())

    assert_401(anonymous.request("POST", "/commands/CreateInvite", {"id": invite_id, "name": "Eris"}, headers))
    assert_401(anonymous.request("GET", "/guestlist", None, headers))
    assert stack.get(f"/aggregates/Invitation/{invite_id}/events").status == 404


@pytest.mark.local_only  # only the local stack's key can sign an expired token it would otherwise accept
def test_an_expired_token_is_401(stack: Client) -> None:
    expired = issue(stack.key, ["hosts"], ttl=60, now=time.time() - 3600)

    answer = stack.as_(expired).get("/guestlist")

    assert_401(answer)
    assert "expired" in answer.body["detail"]
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_signed_with_another_key_is_401(stack: Client) -> None:
    forged = issue(b"not-the-stacks-key-" * 2, ["hosts"])

    assert_401(stack.as_(forged).command("CreateInvite", id=str(uuid.uuid4()), name="Eris"))


def test_a_guest_token_may_neither_invite_nor_query_nor_answer_what_it_does_not_own(stack: Client) -> None:
    guest = stack.as_role("guests", subject="hera")

    refused = guest.command("CreateInvite", id=str(uuid.uuid4()), name="Eris")
    assert refused.status == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert guest.get("/guestlist").status == 403
    # A guest answers only an invitation they own; a missing one is theirs no more than anyone's.
    assert guest.command("DeclineInvite", id=str(uuid.uuid4())).status == 403


@pytest.mark.parametrize("name", ["ConfirmInvite", "DenyInvite"])
def test_no_client_may_send_an_internal_command(stack: Client, name: str) -> None:
    # No acceptance here: the session's saga state belongs to the guest-list story.
    invite_id = create(stack)

    for client in [stack, stack.as_role("guests")]:
        answer = client.command(name, id=invite_id)
        assert answer.status == 404, answer.body
        assert answer.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/health", "/openapi.json"])
def test_health_and_the_openapi_document_stay_open(stack: Client, path: str) -> None:
    assert stack.as_(None).get(path).status == 200


@pytest.mark.local_only
def test_make_token_prints_one_bearer_token_the_running_stack_accepts(stack: Client, tmp_path: Path) -> None:
    # The stack under test keeps its key apart from the developer's .local/; point make at that key.
    (tmp_path / "signing-key").write_text(stack.key.decode())
    env = {**os.environ, "HORIZON_LOCAL_DIR": str(tmp_path)}

    done = subprocess.run(
        ["make", "-s", "token", "ROLE=host"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )

    (token,) = done.stdout.splitlines()
    assert stack.as_(token).get("/guestlist").status == 200
