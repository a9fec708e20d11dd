"""Fixtures for the adapter tests: fake AWS credentials and a moto-backed DynamoDB with Horizon's tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from horizon.dynamodb import DynamoDBEventStore, DynamoDBReadStore, create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EVENTS_TABLE = "events"
READ_TABLE = "read"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3 at fake credentials so no test can ever reach a real account."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def dynamodb(aws_credentials: None) -> Iterator[DynamoDBClient]:
    """A DynamoDB client inside moto, with the event and read tables created."""
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
