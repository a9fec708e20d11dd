"""Fixtures for the adapter tests: fake AWS credentials and a moto-backed DynamoDB with Horizon's tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from horizon.dynamodb import DynamoDBEventStore, DynamoDBReadStore, create_tables
from horizon.local.fake_aws import FAKE_AWS_ENV, REAL_AWS_VARIABLES
from horizon.local.moto_patches import patch_moto

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EVENTS_TABLE = "events"
READ_TABLE = "read"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3 at fake credentials so no test can ever reach a real account."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in REAL_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def dynamodb(aws_credentials: None) -> Iterator[DynamoDBClient]:
    """A DynamoDB client inside moto (with the memory workarounds), with the event and read tables created."""
    patch_moto()
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client, EVENTS_TABLE, READ_TABLE)
        yield client


@pytest.fixture
def dynamodb_event_store(dynamodb: DynamoDBClient) -> DynamoDBEventStore:
    return DynamoDBEventStore(dynamodb, EVENTS_TABLE)


@pytest.fixture
def dynamodb_read_store(dynamodb: DynamoDBClient) -> DynamoDBReadStore:
    return DynamoDBReadStore(dynamodb, READ_TABLE)
