"""Hostile input: whatever a client sends, the API answers below 500 and writes no event."""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import uuid4

import pytest

from horizon.http.resolver import MAX_BODY_BYTES
from tests.integration.http_support import PROBLEM_JSON, Answer, Stack, call, create_invite, invoke, stack

__all__ = ["stack"]  # the fixture, imported for pytest to find

ID = str(uuid4())
"""An id no case creates: every body below is bad in some other way too, so none of them may write an event."""

SEED = uuid4()
"""The invitation `seeded` stores: time travel reaches its history."""


def body_with(fragment: str) -> bytes:
    """A CreateInvite body whose `name` is the raw JSON `fragment`."""
    return f'{{"id":"{ID}","name":{fragment}}}'.encode()


def age_of(literal: str) -> bytes:
    """A CreateInvite body whose `age` is the raw JSON `literal`."""
    return f'{{"id":"{ID}","name":"Ada","age":{literal}}}'.encode()


CREATE = "/commands/CreateInvite"

CASES = [
    # Nesting and numbers the JSON parser chokes on.
    pytest.param("POST", CREATE, {}, b"[" * 10_000 + b"]" * 10_000, id="array-nested-10000"),
    pytest.param("POST", CREATE, {}, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="object-nested-10000"),
    pytest.param("POST", CREATE, {}, body_with("[" * 5_000 + "]" * 5_000), id="name-nested-5000"),
    pytest.param("POST", CREATE, {}, b"[" * 900 + b"]" * 900, id="array-nested-900"),
    pytest.param("POST", CREATE, {}, body_with("[" * 900 + "]" * 900), id="name-nested-900"),
    pytest.param("POST", CREATE, {}, age_of("4" * 5_000), id="age-5000-digits"),
    pytest.param("POST", CREATE, {}, age_of("4" * 4_000), id="age-4000-digits"),
    pytest.param("POST", CREATE, {}, age_of("1e400"), id="age-1e400"),
    pytest.param("POST", CREATE, {}, age_of("NaN"), id="age-nan"),
    pytest.param("POST", CREATE, {}, age_of("-Infinity"), id="age-minus-infinity"),
    pytest.param("POST", CREATE, {}, age_of("-0.0"), id="age-negative-zero-float"),
    # Text that is not quite text.
    pytest.param("POST", CREATE, {}, b"\xff\xfe\x00", id="body-not-utf8"),
    pytest.param("POST", CREATE, {}, body_with('"?"').replace(b"?", b"\xff"), id="name-latin1-byte"),
    pytest.param(
        "POST",
        CREATE,
        {"Content-Type": "application/json; charset=utf-16"},
        json.dumps({"id": "x"}).encode("utf-16"),
        id="body-utf16",
    ),
    pytest.param("POST", CREATE, {}, age_of('"\\ud800"'), id="lone-surrogate-escape"),
    pytest.param("POST", CREATE, {}, f'{{"id":"{ID}","\\ud800":1,"name":"Ada"}}'.encode(), id="surrogate-key"),
    pytest.param("POST", CREATE, {}, body_with('"a\x00b\x01"'), id="raw-control-chars"),
    pytest.param("POST", CREATE, {}, ("\ufeff" + json.dumps({"id": ID})).encode(), id="utf8-bom"),
    pytest.param("POST", CREATE, {}, body_with('"' + "\U0001f469\u200d\U0001f680" * 100 + '"'), id="emoji-201"),
    pytest.param("POST", CREATE, {}, f'{{"id":"{ID}","name":"Ada"}}junk'.encode(), id="trailing-garbage"),
    pytest.param("POST", CREATE, {}, f'{{"id":"{ID}","id":"bad","name":"Ada"}}'.encode(), id="duplicate-key"),
    pytest.param("POST", CREATE, {}, json.dumps({f"k{i}": i for i in range(3_000)}).encode(), id="3000-fields"),
    pytest.param("POST", CREATE, {}, b" " * (MAX_BODY_BYTES - 2) + b"{}", id="64-kib-of-whitespace"),
    pytest.param("POST", CREATE, {}, b" " * MAX_BODY_BYTES + b"{}", id="just-over-64-kib"),
    # Paths.
    pytest.param("POST", "/commands/../invitations", {}, b"{}", id="dot-dot"),
    pytest.param("POST", "/commands/CreateInvite%2F..%2Finvitations", {}, b"{}", id="encoded-dot-dot"),
    pytest.param("POST", "/commands/%00", {}, b"{}", id="percent-00"),
    pytest.param("POST", "/commands/\x00", {}, b"{}", id="nul-in-path"),
    pytest.param("POST", "/commands/" + "A" * 100_000, {}, b"{}", id="path-100k"),
    pytest.param("POST", "/commands/", {}, b"{}", id="empty-command-type"),
    pytest.param("POST", "/commands/__class__", {}, b"{}", id="dunder-command"),
    pytest.param("POST", "/commands/createinvite", {}, b"{}", id="lowercase-command"),
    pytest.param("POST", f"/commands/CreateInvite?id={ID}&name=Ada", {}, b"", id="fields-in-query"),
    pytest.param("GET", "/invitations/" + "a" * 10_000, {}, b"", id="id-10k"),
    pytest.param("GET", "/invitations/..%2F..%2Fetc%2Fpasswd", {}, b"", id="encoded-traversal"),
    pytest.param("GET", "/invitations/../guestlist", {}, b"", id="query-dot-dot"),
    pytest.param("GET", f"/aggregates/Invitation%23{ID}/{ID}/events", {}, b"", id="partition-key-injection"),
    pytest.param("GET", f"/aggregates/__class__/{ID}/events", {}, b"", id="dunder-aggregate"),
    pytest.param("GET", "/" + "\u00e9" * 1_000, {}, b"", id="unicode-path"),
    pytest.param("GET", "", {}, b"", id="empty-path"),
    # Query strings.
    pytest.param("GET", "/invitations?limit=1&limit=2", {}, b"", id="repeated-limit"),
    pytest.param("GET", "/invitations?cursor=a&cursor=b", {}, b"", id="repeated-cursor"),
    pytest.param("GET", "/invitations?limit=%00", {}, b"", id="nul-limit"),
    pytest.param("GET", "/invitations?limit=" + "9" * 5_000, {}, b"", id="limit-5000-digits"),
    pytest.param("GET", "/invitations?" + "&".join(f"p{i}=x" for i in range(2_000)), {}, b"", id="2000-params"),
    pytest.param("GET", "/invitations?cursor=" + "[" * 1_000, {}, b"", id="bracket-cursor"),
    pytest.param("GET", f"/aggregates/Invitation/{SEED}?version=" + "9" * 30, {}, b"", id="version-30-digits"),
    pytest.param("GET", f"/aggregates/Invitation/{SEED}?as_of=0001-01-01T00:00:00Z", {}, b"", id="as-of-year-1"),
    pytest.param("GET", f"/aggregates/Invitation/{SEED}?as_of=9999-12-31T23:59:59%2B14:00", {}, b"", id="as-of-9999"),
    pytest.param("GET", f"/aggregates/Invitation/{SEED}?as_of=2026-01-01T00:00:00", {}, b"", id="as-of-naive"),
    pytest.param("GET", f"/aggregates/Invitation/{SEED}/events?from_version=" + "9" * 30, {}, b"", id="from-30-digits"),
    # Methods and headers.
    pytest.param("OPTIONS", CREATE, {}, b"", id="options"),
    pytest.param("HEAD", "/health", {}, b"", id="head"),
    pytest.param("post", CREATE, {}, body_with('"Ada"'), id="lowercase-method"),
    pytest.param("", "/health", {}, b"", id="empty-method"),
    pytest.param("POST", CREATE, {"Content-Type": "application/evil+json"}, b'{"id":1}', id="suffix-json-type"),
    pytest.param("POST", CREATE, {"Content-Type": "multipart/form-data; boundary=x"}, b"--x--", id="multipart"),
    pytest.param("POST", CREATE, {"Content-Type": ""}, b'{"id":"bad"}', id="empty-content-type"),
    pytest.param("POST", CREATE, {"Idempotency-Key": "\x00" * 200}, b"{}", id="nul-idempotency-key"),
    pytest.param("POST", CREATE, {"X-Correlation-Id": "c" * 100_000}, b'{"id":"bad"}', id="huge-correlation-id"),
]


@pytest.fixture
def seeded(stack: Stack) -> int:
    """One invitation already stored, so 'nothing written' is checked against a table that is not empty."""
    create_invite("Seed", invite_id=SEED)
    return stack.event_count()


def assert_harmless(answer: Answer, stack: Stack, items_before: int) -> None:
    assert answer.status < 500, answer.raw[:500]
    if answer.status >= 400:
        assert answer.header("Content-Type") == PROBLEM_JSON
        assert answer.json["status"] == answer.status
    assert stack.event_count() == items_before


@pytest.mark.parametrize(("method", "target", "headers", "body"), CASES)
def test_hostile_requests_are_answered_below_500_and_write_nothing(
    stack: Stack, seeded: int, method: str, target: str, headers: dict[str, str], body: bytes
) -> None:
    assert_harmless(call(method, target, body, headers), stack, seeded)


RAW_EVENTS: list[Any] = [
    pytest.param({"body": "not base64!", "isBase64Encoded": True}, id="invalid-base64"),
    pytest.param(
        {"body": base64.b64encode(b"{" * (MAX_BODY_BYTES + 1)).decode(), "isBase64Encoded": True},
        id="base64-over-64-kib",
    ),
    pytest.param({"body": base64.b64encode(b'{"id":"bad"}').decode(), "isBase64Encoded": True}, id="base64-json"),
    pytest.param({"body": "{}", "headers": {}}, id="no-headers"),
]


@pytest.mark.parametrize("overrides", RAW_EVENTS)
def test_hand_made_events_are_answered_below_500_and_write_nothing(
    stack: Stack, seeded: int, overrides: dict[str, Any]
) -> None:
    assert_harmless(invoke("POST", CREATE, overrides), stack, seeded)


def test_a_body_of_exactly_64_kib_is_parsed_and_one_byte_more_is_too_large(stack: Stack) -> None:
    padding = b" " * (MAX_BODY_BYTES - 2)
    assert call("POST", CREATE, padding + b"{}").status == 422
    assert call("POST", CREATE, padding + b" {}").status == 413


def test_the_size_limit_counts_bytes_not_characters(stack: Stack) -> None:
    name = "\u00e9" * (MAX_BODY_BYTES // 2)  # two bytes each in UTF-8
    assert call("POST", CREATE, {"id": ID, "name": name}).status == 413
