"""Data keys in their own DynamoDB table, each wrapped (envelope-encrypted) by one KMS key.

An item per subject: `pk` = the subject, `wrapped` = the data key as KMS encrypted it, with the subject as
its encryption context. Forgetting overwrites the item with a tombstone (`forgotten_at`, no key material),
so the plaintext key exists nowhere any more and the subject can never be given a new one. Neither the
table nor KMS ever sees personal data; only the events table holds ciphertext.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from horizon.dynamodb.batch_get import BATCH_GET_LIMIT, batch_get
from horizon.privacy.keys import DataKeys, SubjectForgotten

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient


class DynamoDBDataKeys(DataKeys):
    """Per-subject data keys in `table`, wrapped by the KMS key `kms_key_id`; both clients are injected."""

    def __init__(self, dynamodb: DynamoDBClient, kms: KMSClient, table: str, kms_key_id: str) -> None:
        self._dynamodb = dynamodb
        self._kms = kms
        self._table = table
        self._kms_key_id = kms_key_id

    def key_for_writing(self, subject: str) -> bytes:
        """The subject's key, created on first use; SubjectForgotten if the subject was forgotten."""
        # Creating is the common case (a subject's personal data arrives with its first event): try it first,
        # two round trips; an existing item comes back with the failed condition.
        generated = self._kms.generate_data_key(
            KeyId=self._kms_key_id, KeySpec="AES_256", EncryptionContext=_context(subject)
        )
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": subject},
                    "wrapped": {"B": generated["CiphertextBlob"]},
                    "created_at": {"S": _now()},
                },
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return generated["Plaintext"]
        except self._dynamodb.exceptions.ConditionalCheckFailedException as error:
            # ALL_OLD: the condition failed because the item exists, and DynamoDB returns it. No second read,
            # so the functions need no GetItem on this table (infra/permissions.py).
            old: Any = error.response.get("Item")
            existing: dict[str, Any] = dict(old or {})
        if not existing:
            raise LookupError(f"seal personal data of {subject}: the key exists but its item came back empty")
        key = self.unwrap(subject, existing)
        if key is None:
            raise SubjectForgotten(subject, "seal personal data")
        return key

    def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """Each subject's key, or None when it has none (never had one, or forgotten); one batch of reads."""
        wanted = list(dict.fromkeys(subjects))
        found: dict[str, bytes | None] = dict.fromkeys(wanted)
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            request = {self._table: self.key_request(wanted[start : start + BATCH_GET_LIMIT])}
            for item in batch_get(self._dynamodb, request, f"read data keys from {self._table}")[self._table]:
                subject = item["pk"]["S"]
                found[subject] = self.unwrap(subject, item)
        return found

    @property
    def table(self) -> str:
        """The keys table's name."""
        return self._table

    @staticmethod
    def key_request(subjects: Iterable[str]) -> dict[str, Any]:
        """The BatchGetItem request for these subjects' key items in the keys table (strongly consistent)."""
        return {"Keys": [{"pk": {"S": s}} for s in subjects], "ConsistentRead": True}

    def forget(self, subject: str) -> None:
        """Delete the subject's key for good and remember that it was deleted; forgetting twice is a no-op."""
        self._dynamodb.put_item(TableName=self._table, Item={"pk": {"S": subject}, "forgotten_at": {"S": _now()}})

    def unwrap(self, subject: str, item: dict[str, Any]) -> bytes | None:
        """The subject's key from its item (one KMS Decrypt), or None for a tombstone."""
        wrapped = item.get("wrapped", {}).get("B")
        if wrapped is None:
            return None
        return self._kms.decrypt(CiphertextBlob=wrapped, EncryptionContext=_context(subject))["Plaintext"]


def _context(subject: str) -> dict[str, str]:
    # KMS binds the wrapped key to its subject: a wrapped key copied to another item does not unwrap.
    return {"subject": subject}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def create_keys_table(client: DynamoDBClient, table: str) -> None:
    """The data-key table for local runs and tests: `pk` S only (infra/ declares the same key for AWS)."""
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_local_keys(client: DynamoDBClient, kms: KMSClient, table: str, alias: str) -> None:
    """For local runs and tests: the keys table and a KMS key under `alias` (infra/ declares both for AWS)."""
    create_keys_table(client, table)
    key_id = kms.create_key(Description="Horizon data-key wrapper (local)")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
