"""A moto-backed container and a per-operation DynamoDB call counter: the round-trip tests and the benchmarks.

It lives in tests/ because tests may not import bench/ (the benchmarks are never part of `make test`)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from horizon.local.fake_aws import restore, use_fake_aws

BENCH_ENV = {
    "EVENTS_TABLE": "bench-events",
    "READ_TABLE": "bench-read",
    "GUEST_LIMIT": "2",
}


class CallCounter:
    """Counts DynamoDB API calls by operation name through botocore's event hooks."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    @contextmanager
    def measure(self) -> Iterator[Counter[str]]:
        """Yield a Counter that holds the calls made inside the block once it exits."""
        before = self.calls.copy()
        result: Counter[str] = Counter()
        yield result
        result.update(self.calls - before)


def another_lambda(container: Any) -> Any:
    """A second Lambda container of the same function: the same tables and clients, none of its memory."""
    from functions.composition import Container

    return Container(container.settings, container.dynamodb, container.kms)


@contextmanager
def moto_container() -> Iterator[tuple[Any, CallCounter]]:
    """A composition-root Container on fresh moto tables, with a call counter on its client."""
    saved = {name: os.environ.get(name) for name in BENCH_ENV}
    saved_aws = use_fake_aws()
    os.environ.update(BENCH_ENV)
    import boto3
    from moto import mock_aws

    from functions.composition import Container, Settings
    from horizon.dynamodb.datakeys import create_local_keys
    from horizon.dynamodb.tables import create_tables
    from horizon.local.moto_patches import patch_moto
    from horizon.secrets import create_local_secret

    patch_moto()

    try:
        with mock_aws():
            client = boto3.client("dynamodb")
            settings = Settings.from_env()
            create_tables(client, settings.events_table, settings.read_table)
            kms = boto3.client("kms")
            create_local_keys(client, kms, settings.keys_table, settings.kms_key_id)
            create_local_secret(boto3.client("secretsmanager"), settings.claims_secret_id)
            yield Container(settings, client, kms), CallCounter(client)
    finally:
        restore(saved)
        restore(saved_aws)
