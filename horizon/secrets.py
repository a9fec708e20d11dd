"""Secrets a function fetches from AWS Secrets Manager on first use and keeps for a bounded time.

A secret in a Lambda function's environment is readable by anyone who may read the function's configuration
(`lambda:GetFunctionConfiguration`, the console, CloudFormation's template): it is fetched instead, by the
functions whose role may read it, with Powertools' parameters utility caching it per warm container. Locally
the data plane (moto) serves Secrets Manager at the same endpoint as DynamoDB and KMS.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

SecretsManagerClient = Any
"""A boto3 `secretsmanager` client (its stubs are not among the dev requirements: two calls do not need them)."""
SECRET_MAX_AGE_SECONDS = 900
"""How long a warm container keeps a fetched secret before it asks Secrets Manager again (docs/privacy.md)."""


class FetchedSecret:
    """A secret's value, fetched on the first call and cached for `max_age` seconds (then fetched again)."""

    def __init__(
        self,
        client: Callable[[], SecretsManagerClient],
        secret_id: str,
        *,
        max_age: int = SECRET_MAX_AGE_SECONDS,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._max_age = max_age
        self._provider: Any = None

    def __call__(self) -> bytes:
        """The secret's value as bytes; raises the provider's GetParameterError when it cannot be read."""
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto3_client=self._client())
        value = self._provider.get(self._secret_id, max_age=self._max_age)
        return value.encode() if isinstance(value, str) else bytes(value)

    def forget(self) -> None:
        """Drop the fetched value and its client: the next call fetches it again (after a SnapStart restore)."""
        self._provider = None

    @property
    def fetched(self) -> bool:
        """Whether a value may be cached: a provider exists once the first call has run."""
        return self._provider is not None


def create_local_secret(client: SecretsManagerClient, secret_id: str) -> None:
    """For local runs and tests: a random secret under `secret_id` (infra/privacy.py generates it on AWS)."""
    client.create_secret(Name=secret_id, SecretString=secrets.token_urlsafe(36))
