"""The claims' HMAC key: fetched from Secrets Manager (moto) by the functions that claim, once per warm container."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import boto3
import pytest
from botocore.session import get_session
from moto import mock_aws

from functions import settings
from horizon.secrets import FetchedSecret, create_local_secret

from .http_support import Stack, call, command, create_invite, stack

__all__ = ["stack"]


@pytest.fixture
def secrets(aws_credentials: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager")


def counting(events: Any) -> list[str]:
    """The Secrets Manager operations called through a client's (or a session's) event system."""
    calls: list[str] = []
    events.register("before-call.secrets-manager", lambda model, **_: calls.append(model.name))
    return calls


def test_a_secret_is_fetched_once_then_served_from_memory_until_it_is_too_old(secrets: Any) -> None:
    create_local_secret(secrets, "claims")
    calls = counting(secrets.meta.events)
    fetched = FetchedSecret(lambda: secrets, "claims", max_age=300)

    values = {fetched() for _ in range(5)}

    assert calls == ["GetSecretValue"]
    assert len(values) == 1
    assert len(values.pop()) >= 32
    expiring = FetchedSecret(lambda: secrets, "claims", max_age=0)
    expiring()
    expiring()
    assert calls.count("GetSecretValue") == 3  # too old at once: fetched on every call


def test_a_missing_secret_fails_loudly_rather_than_hash_with_no_key(secrets: Any) -> None:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    with pytest.raises(GetParameterError):
        FetchedSecret(lambda: secrets, "nowhere")()


def test_only_a_claiming_commit_fetches_the_claims_secret_and_only_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = get_session()  # the container's Secrets Manager client, built on first use, comes from it
    monkeypatch.setattr(settings, "session", lambda: session)
    calls = counting(session)
    invite_id = create_invite("Ada")  # no e-mail: nothing to claim
    assert call("GET", f"/aggregates/Invitation/{invite_id}").status == 200
    assert calls == []

    for name in ("Bo", "Cy"):
        body = {"id": str(uuid4()), "name": name, "email": f"{name.lower()}@example.org"}
        assert command("CreateInvite", body).status == 200
    assert calls == ["GetSecretValue"]
