"""What a function reads from its environment, read once per container (functions/composition.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

from horizon import resource_names

AwsService = Literal["dynamodb", "kms", "secretsmanager", "sqs"]
"""The AWS services the functions call. The asset ships botocore's data for these only (infra/sdk_data.py), so
a client of any other service fails on Lambda: add its name here first."""

AWS_SERVICES: tuple[str, ...] = get_args(AwsService)


@dataclass(frozen=True)
class Settings:
    """What a function reads from its environment."""

    events_table: str
    read_table: str
    guest_limit: int
    read_wait_seconds: float
    region: str | None
    endpoint_url: str | None
    keys_table: str = resource_names.KEYS_TABLE
    kms_key_id: str = resource_names.KMS_KEY
    claims_secret_id: str = resource_names.CLAIMS_SECRET
    """The Secrets Manager secret (name or ARN) that keys unique-value claims; its value is fetched, never set."""
    fanout_queues: str | None = None
    """FANOUT_QUEUES: the queued consumers' queues and the types each reacts to, from the stack (the fan-out
    function only). Parsed on first use (`Container.fanout`), not by every function."""

    @classmethod
    def from_env(cls) -> Settings:
        """Read settings from the environment; a bad GUEST_LIMIT fails loudly at first use."""
        from horizon.dynamodb.routes import FANOUT_QUEUES

        return cls(
            events_table=os.environ.get("EVENTS_TABLE", resource_names.EVENTS_TABLE),
            read_table=os.environ.get("READ_TABLE", resource_names.READ_TABLE),
            guest_limit=int(os.environ.get("GUEST_LIMIT", "2")),
            read_wait_seconds=min(10.0, max(0.0, float(os.environ.get("READ_WAIT_SECONDS", "2")))),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL"),
            keys_table=os.environ.get("KEYS_TABLE", resource_names.KEYS_TABLE),
            kms_key_id=os.environ.get("KMS_KEY_ID", resource_names.KMS_KEY),
            claims_secret_id=os.environ.get("CLAIMS_SECRET_ID", resource_names.CLAIMS_SECRET),
            fanout_queues=os.environ.get(FANOUT_QUEUES),
        )


def aws_client(service: AwsService, settings: Settings) -> Any:
    """An AWS client with the functions' timeouts and retry policy (horizon/retry.py); locally the data plane at
    the DynamoDB endpoint serves every service.

    The very client boto3.client builds, from botocore's session: importing boto3 also imports s3transfer (for
    its TransferConfig), about 60 ms of every cold start that no function here uses (docs/cold-start.md)."""
    if service not in AWS_SERVICES:
        # Fails in every test that builds it, not only on Lambda, where the asset has no model for it.
        raise ValueError(f"aws_client({service!r}): not in AwsService, so the Lambda asset ships no model for it")
    from botocore.config import Config

    from horizon.retry import AWS_RETRIES

    config = Config(retries=AWS_RETRIES, connect_timeout=2, read_timeout=5)  # type: ignore[arg-type]
    return session().create_client(
        service, region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
    )


@cache
def session() -> Any:
    """The container's one botocore session: its loader reads each service model once for every client."""
    from botocore.session import get_session

    return get_session()
