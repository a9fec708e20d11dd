"""What only the real front door can get wrong: raw bytes, sizes, methods and headers over a socket."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest

from tests.e2e.client import Client

pytestmark = pytest.mark.e2e


def _raw(stack: Client, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    target = urlparse(stack.base_url)
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"Authorization": f"Bearer {stack.token}", **headers})
        response = connection.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def test_a_body_over_64_kib_is_refused_with_413_and_writes_nothing(stack: Client) -> None:
    invite = str(uuid.uuid4())
    answer = stack.command("CreateInvite", id=invite, name="x" * (70 * 1024))
    assert answer.status == 413
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert stack.get(f"/aggregates/Invitation/{invite}/events").status == 404


def test_a_wrong_method_is_405_with_an_allow_header(stack: Client) -> None:
    answer = stack.request("GET", "/commands/CreateInvite")
    assert answer.status == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.body["status"] == 405


def test_malformed_json_over_the_wire_is_400(stack: Client) -> None:
    answer = stack.request("POST", "/commands/CreateInvite", b'{"id": ')
    assert answer.status == 400
    assert answer.body["title"] == "Malformed JSON"


def test_an_unknown_route_is_a_404_problem(stack: Client) -> None:
    answer = stack.get("/nowhere")
    assert answer.status == 404
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_body_that_is_not_utf8_is_400_not_a_crash(stack: Client) -> None:
    status, headers = _raw(
        stack, "POST", "/commands/CreateInvite", b"\xff\xfe\x00{", {"Content-Type": "application/json"}
    )
    assert status == 400
    assert headers["content-type"] == "application/problem+json"


@pytest.mark.local_only  # the front door's own answer; API Gateway's differs
def test_a_bad_content_length_is_refused_by_the_front_door(stack: Client) -> None:
    status, _ = _raw(stack, "POST", "/commands/CreateInvite", b"", {"Content-Length": "-5"})
    assert status == 400


def test_the_openapi_document_lists_every_public_command_and_no_internal_one(stack: Client) -> None:
    paths = stack.as_(None).get("/openapi.json").body["paths"]
    for command in ("CreateInvite", "AcceptInvite", "DeclineInvite"):
        assert f"/commands/{command}" in paths
    for command in ("ConfirmInvite", "DenyInvite"):
        assert f"/commands/{command}" not in paths


def test_ten_concurrent_sends_of_one_idempotency_key_run_once_and_answer_identically(stack: Client) -> None:
    invite_id = str(uuid.uuid4())
    barrier = threading.Barrier(10)

    def send(_: int) -> tuple[int, str]:
        barrier.wait()
        answer = stack.request(
            "POST", "/commands/CreateInvite", {"id": invite_id, "name": "Hestia"}, {"Idempotency-Key": invite_id}
        )
        return answer.status, json.dumps(answer.body, sort_keys=True)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(send, range(10)))

    assert len(set(answers)) == 1, answers
    assert answers[0][0] == 200
    history = stack.get(f"/aggregates/Invitation/{invite_id}/events").body["events"]
    assert [event["type"] for event in history] == ["InviteCreated"]
    other = stack.request(
        "POST", "/commands/CreateInvite", {"id": invite_id, "name": "Hera"}, {"Idempotency-Key": invite_id}
    )
    assert (other.status, other.body["type"]) == (422, "https://horizon.dev/problems/idempotency-key-reused")
