"""The data-key contract, run against the in-memory keys and DynamoDB + KMS (moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from horizon.dynamodb.branch_keys import BranchKeys, is_branch
from horizon.dynamodb.datakeys import DynamoDBDataKeys, create_keys_table
from horizon.memory.datakeys import MemoryDataKeys
from horizon.privacy.cipher import SealedDataCorrupt
from horizon.privacy.keys import DataKeys

from .datakeys_contract import DataKeysContract

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEYS_TABLE = "keys"


def wrapper() -> tuple[Any, str]:
    """A KMS client and a fresh moto KMS key (the caller holds moto's mock open)."""
    kms = boto3.client("kms")
    return kms, kms.create_key(Description="test data-key wrapper")["KeyMetadata"]["KeyId"]


def dynamodb_data_keys(dynamodb: DynamoDBClient) -> DynamoDBDataKeys:
    """Keys in moto's DynamoDB under a fresh moto KMS key."""
    kms, key_id = wrapper()
    create_keys_table(dynamodb, KEYS_TABLE)
    return DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id)


@pytest.fixture(params=["memory", "dynamodb"])
def keys(request: pytest.FixtureRequest) -> DataKeys:
    if request.param == "memory":
        return MemoryDataKeys()
    return dynamodb_data_keys(request.getfixturevalue("dynamodb"))


class TestDataKeysContract(DataKeysContract):
    """Every case of the contract, once per adapter."""


def subject_items(dynamodb: DynamoDBClient) -> list[dict[str, Any]]:
    return [item for item in dynamodb.scan(TableName=KEYS_TABLE)["Items"] if not is_branch(dict(item))]


def test_the_keys_table_holds_no_key_in_clear_and_nothing_after_forgetting(dynamodb: DynamoDBClient) -> None:
    keys = dynamodb_data_keys(dynamodb)
    key = keys.key_for_writing("Invitation#1")
    (item,) = subject_items(dynamodb)
    branch_key = keys.branches.key(item["branch"]["S"])
    (branch,) = [i for i in dynamodb.scan(TableName=KEYS_TABLE)["Items"] if is_branch(dict(i))]
    assert key not in item["wrapped"]["B"]
    assert branch_key not in branch["wrapped"]["B"]
    keys.forget("Invitation#1")
    (tombstone,) = subject_items(dynamodb)
    assert set(tombstone) == {"pk", "forgotten_at"}


def test_a_wrapped_key_moved_to_another_subject_does_not_unwrap(dynamodb: DynamoDBClient) -> None:
    keys = dynamodb_data_keys(dynamodb)
    keys.key_for_writing("Invitation#1")
    (item,) = subject_items(dynamodb)
    dynamodb.put_item(TableName=KEYS_TABLE, Item={**item, "pk": {"S": "Invitation#2"}})
    with pytest.raises(SealedDataCorrupt, match="Invitation#2: wrapped for another subject"):
        keys.keys_for_reading(["Invitation#2"])


def counting_kms() -> tuple[Any, list[str]]:
    """A KMS client of its own (as another container has), and the names of the calls it makes."""
    kms, calls = boto3.client("kms"), []
    kms.meta.events.register("after-call.kms", lambda model, **_: calls.append(model.name))
    return kms, calls


def test_many_subjects_cost_one_kms_request_per_container_not_one_each(dynamodb: DynamoDBClient) -> None:
    _, key_id = wrapper()
    create_keys_table(dynamodb, KEYS_TABLE)
    kms, calls = counting_kms()
    writer = DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id)
    written = {f"Invitation#{n}": writer.key_for_writing(f"Invitation#{n}") for n in range(150)}
    # The month's branch key is made once; each subject's key is made and wrapped here
    assert calls == ["GenerateDataKey"]
    kms, calls = counting_kms()
    reader = DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id)
    assert reader.keys_for_reading(list(written)) == written
    # Another container unwraps the branch key once, brought along by its first read of keys
    assert calls == ["Decrypt"]


def test_a_new_month_wraps_under_a_new_branch_and_last_months_keys_still_unwrap(dynamodb: DynamoDBClient) -> None:
    kms, key_id = wrapper()
    create_keys_table(dynamodb, KEYS_TABLE)
    month = [datetime(2026, 11, 30, tzinfo=UTC)]
    branches = BranchKeys(dynamodb, kms, KEYS_TABLE, key_id, now=lambda: month[0])
    keys = DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id, branches)
    november = keys.key_for_writing("Invitation#1")
    month[0] = datetime(2026, 12, 1, tzinfo=UTC)
    december = keys.key_for_writing("Invitation#2")
    wrapped_under = {item["pk"]["S"]: item["branch"]["S"] for item in subject_items(dynamodb)}
    assert wrapped_under == {"Invitation#1": "_branch#2026-11", "Invitation#2": "_branch#2026-12"}
    cold = DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id)
    assert cold.keys_for_reading(["Invitation#1", "Invitation#2"]) == {
        "Invitation#1": november,
        "Invitation#2": december,
    }


def test_a_key_kms_wrapped_before_branch_keys_still_unwraps(dynamodb: DynamoDBClient) -> None:
    kms, key_id = wrapper()
    create_keys_table(dynamodb, KEYS_TABLE)
    keys = DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id)
    generated = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"subject": "Invitation#old"})
    item = {"pk": {"S": "Invitation#old"}, "wrapped": {"B": generated["CiphertextBlob"]}}
    dynamodb.put_item(TableName=KEYS_TABLE, Item=item)
    assert keys.keys_for_reading(["Invitation#old"]) == {"Invitation#old": generated["Plaintext"]}
    assert keys.key_for_writing("Invitation#old") == generated["Plaintext"]


def test_two_containers_making_the_months_branch_key_at_once_agree_on_the_first(dynamodb: DynamoDBClient) -> None:
    kms, key_id = wrapper()
    create_keys_table(dynamodb, KEYS_TABLE)
    first, second = (DynamoDBDataKeys(dynamodb, kms, KEYS_TABLE, key_id) for _ in range(2))
    # The second container read no branch item, and the first makes one before the second writes its own
    made = first.key_for_writing("Invitation#1")
    branch, key = second.branches.for_writing(read=False)
    # Its write is refused; it takes the first's branch key from the refusal, so both wrap under one key
    assert key == first.branches.key(branch)
    assert second.keys_for_reading(["Invitation#1"]) == {"Invitation#1": made}
    assert len([item for item in dynamodb.scan(TableName=KEYS_TABLE)["Items"] if is_branch(dict(item))]) == 1
