"""The local JWT authorizer: the shared development key, verification, and claims placed as API Gateway does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from functions.api import OPEN_ROUTES
from horizon.http.principal import principal_of
from horizon.local.apigw import to_event
from horizon.local.auth import InvalidToken, authorizer, issue, signing_key, verify

KEY = b"k" * 64


def test_the_signing_key_is_created_once_private_and_then_reused(tmp_path: Path) -> None:
    first = signing_key(tmp_path / "local")

    assert signing_key(tmp_path / "local") == first
    assert len(first) == 64
    assert (tmp_path / "local" / "signing-key").stat().st_mode & 0o077 == 0


def test_a_token_it_issues_verifies_with_its_subject_and_groups() -> None:
    claims = verify(KEY, "Bearer " + issue(KEY, ["hosts", "guests"], subject="ada"))

    assert (claims["sub"], claims["cognito:groups"]) == ("ada", ["guests", "hosts"])


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "Bearer <token>"),
        ("Token abc", "Bearer <token>"),
        ("Bearer abc", "not valid"),
        ("Bearer " + issue(b"another key" * 4, ["hosts"]), "Signature"),
        ("Bearer " + issue(KEY, ["hosts"], ttl=1, now=time.time() - 60), "expired"),
    ],
    ids=["missing", "other scheme", "malformed", "wrong key", "expired"],
)
def test_a_bad_token_is_invalid(authorization: str | None, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify(KEY, authorization)


def test_a_token_for_another_audience_is_invalid() -> None:
    import jwt

    token = jwt.encode({"sub": "x", "iss": "horizon-local", "aud": "other", "exp": time.time() + 60}, KEY)

    with pytest.raises(InvalidToken, match="Audience"):
        verify(KEY, f"Bearer {token}")


def _capture(seen: list[dict[str, Any]]) -> Any:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "body": ""}

    return handler


def test_the_front_door_passes_claims_where_api_gateway_puts_them_stringified() -> None:
    seen: list[dict[str, Any]] = []
    gate = authorizer(KEY, OPEN_ROUTES)(_capture(seen))
    issued = int(time.time())
    token = issue(KEY, ["guests", "hosts"], subject="ada", now=issued)

    gate(to_event("GET", "/guestlist", {"Authorization": f"Bearer {token}"}, b"", "127.0.0.1"), None)

    claims = seen[0]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[guests hosts]"
    assert claims["exp"] == str(issued + 12 * 3600)
    assert principal_of(seen[0]).roles == {"guests", "hosts"}


def test_the_front_door_answers_401_problems_without_calling_the_function() -> None:
    seen: list[dict[str, Any]] = []
    gate = authorizer(KEY, OPEN_ROUTES)(_capture(seen))

    bare = gate(to_event("GET", "/guestlist", {}, b"", "127.0.0.1"), None)
    bad = gate(to_event("GET", "/guestlist", {"Authorization": "Bearer x.y.z"}, b"", "127.0.0.1"), None)

    assert (bare["statusCode"], bare["headers"]["WWW-Authenticate"]) == (401, "Bearer")
    assert (bad["statusCode"], bad["headers"]["WWW-Authenticate"]) == (401, 'Bearer error="invalid_token"')
    assert bare["headers"]["Content-Type"] == "application/problem+json"
    assert seen == []


@pytest.mark.parametrize(("method", "path"), OPEN_ROUTES)
def test_open_routes_pass_without_a_token(method: str, path: str) -> None:
    seen: list[dict[str, Any]] = []

    authorizer(KEY, OPEN_ROUTES)(_capture(seen))(to_event(method, path, {}, b"", "127.0.0.1"), None)

    assert len(seen) == 1


def test_make_token_with_an_email_prints_a_guest_token_with_that_email_verified_and_an_opaque_subject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from horizon.local.auth import main

    monkeypatch.setenv("HORIZON_LOCAL_DIR", str(tmp_path))
    main(["--role", "guest", "--email", "Ares@Olympus.example"])
    claims = verify(signing_key(tmp_path), "Bearer " + capsys.readouterr().out.strip())

    assert (claims["cognito:groups"], claims["email"], claims["email_verified"]) == (
        ["guests"],
        "Ares@Olympus.example",
        True,
    )
    assert "ares" not in claims["sub"].lower()  # the subject is recorded in events: never the e-mail


def test_claims_reach_the_functions_as_api_gateway_renders_them_booleans_in_lower_case() -> None:
    from horizon.local.auth import as_gateway_claims

    rendered = as_gateway_claims({"email_verified": False, "cognito:groups": ["guests"], "exp": 5})

    assert rendered == {"email_verified": "false", "cognito:groups": "[guests]", "exp": "5"}
