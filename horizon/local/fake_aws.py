"""The fake AWS environment every moto user here shares: the local stack, the benchmarks and the tests.

Fake credentials so that nothing started from here can reach a real account, one region, and the botocore
switch moto needs (it does not know the account-based endpoints recent botocore picks for DynamoDB Streams).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
"""moto's default account: the one whose backends the local stack and its endpoint share."""

FAKE_AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
"""Set, overriding the developer's shell."""

REAL_AWS_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN")
"""Removed: each could point boto3 at a real account despite the fake keys."""


def use_fake_aws(environ: MutableMapping[str, str] | None = None) -> dict[str, str | None]:
    """Install the fake AWS environment in `environ` (os.environ by default); return what it replaced."""
    target = os.environ if environ is None else environ
    names = (*FAKE_AWS_ENV, *REAL_AWS_VARIABLES)
    replaced = {name: target.get(name) for name in names}
    for name in REAL_AWS_VARIABLES:
        target.pop(name, None)
    target.update(FAKE_AWS_ENV)
    return replaced


def restore(saved: dict[str, str | None], environ: MutableMapping[str, str] | None = None) -> None:
    """Undo `use_fake_aws` with what it returned."""
    target = os.environ if environ is None else environ
    for name, value in saved.items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
