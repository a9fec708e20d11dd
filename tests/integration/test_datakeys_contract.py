"""The data-key contract, run against the in-memory keys and DynamoDB + KMS (moto)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from horizon.dynamodb.datakeys import DynamoDBDataKeys, create_keys_table
from horizon.memory.datakeys import MemoryDataKeys
from horizon.privacy.keys import DataKeys

from .datakeys_contract import DataKeysContract

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEYS_TABLE = "keys"


def dynamodb_data_keys(dynamodb: DynamoDBClient) -> DynamoDBDataKeys:
    """Keys in moto's DynamoDB, wrapped by a fresh moto KMS key (the caller holds moto's mock open)."""
    kms = boto3.client("kms")
    key_id = kms.create_key(Description="test data-key wrapper")["KeyMetadata"]["KeyId"]
    create_keys_table(dynamodb, KEYS_TABLE)
    return DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id)


@pytest.fixture(params=["memory", "dynamodb"])
def keys(request: pytest.FixtureRequest) -> DataKeys:
    if request.param == "memory":
        return MemoryDataKeys()
    return dynamodb_data_keys(request.getfixturevalue("dynamodb"))


class TestDataKeysContract(DataKeysContract):
    """Every case of the contract, once per adapter."""


def test_the_keys_table_holds_no_key_in_clear_and_nothing_after_forgetting(dynamodb: DynamoDBClient) -> None:
    keys = dynamodb_data_keys(dynamodb)
    key = keys.key_for_writing("Invitation#1")
    (item,) = dynamodb.scan(TableName=KEYS_TABLE)["Items"]
    assert key not in item["wrapped"]["B"]
    keys.forget("Invitation#1")
    (tombstone,) = dynamodb.scan(TableName=KEYS_TABLE)["Items"]
    assert set(tombstone) == {"pk", "forgotten_at"}


def test_a_wrapped_key_moved_to_another_subject_does_not_unwrap(dynamodb: DynamoDBClient) -> None:
    keys = dynamodb_data_keys(dynamodb)
    keys.key_for_writing("Invitation#1")
    (item,) = dynamodb.scan(TableName=KEYS_TABLE)["Items"]
    dynamodb.put_item(TableName=KEYS_TABLE, Item={**item, "pk": {"S": "Invitation#2"}})
    with pytest.raises(Exception, match="InvalidCiphertext"):
        keys.keys_for_reading(["Invitation#2"])
