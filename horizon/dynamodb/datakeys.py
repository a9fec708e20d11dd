"""Data keys in their own DynamoDB table, each wrapped (envelope-encrypted) under a branch key that KMS wraps.

An item per subject: `pk` = the subject, `wrapped` = the data key wrapped under the branch key `branch`
(horizon/dynamodb/branch_keys.py), bound to the subject. Items written before branch keys have no `branch`:
KMS wrapped their key directly, with the subject as encryption context, and they unwrap as before. Forgetting
overwrites the item with a tombstone (`forgotten_at`, no key material), so the plaintext key exists nowhere any
more and the subject can never be given a new one. Neither the table nor KMS ever sees personal data; only the
events table holds ciphertext.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from horizon.dynamodb.batch_get import BATCH_GET_LIMIT, batch_get
from horizon.dynamodb.branch_keys import KEY_BYTES, BranchKeys, is_branch, timestamp, unwrap, wrap
from horizon.privacy.keys import DataKeys, SubjectForgotten

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient


class DynamoDBDataKeys(DataKeys):
    """Per-subject data keys in `table`, under branch keys the KMS key `kms_key_id` wraps; clients injected."""

    def __init__(
        self, dynamodb: DynamoDBClient, kms: KMSClient, table: str, kms_key_id: str, branches: BranchKeys | None = None
    ) -> None:
        self._dynamodb = dynamodb
        self._kms = kms
        self._table = table
        self.branches = branches or BranchKeys(dynamodb, kms, table, kms_key_id)

    def key_for_writing(self, subject: str) -> bytes:
        """The subject's key, created on first use; SubjectForgotten if the subject was forgotten."""
        read = self.branches.holds(self.branches.current())
        if not read:
            # A cold container reads the subject's item and the month's branch item in one request: an existing
            # subject is unwrapped without a branch key made, and a new one finds the branch key it needs.
            request = {self._table: self.key_request([subject])}
            found = self.unwrap_found(
                batch_get(self._dynamodb, request, f"read the data key of {subject}")[self._table]
            )
            if subject in found:
                return self._live(subject, found[subject])
        # Creating is the common case (a subject's personal data arrives with its first event): try it first,
        # one round trip with the branch key kept; an existing item comes back with the failed condition.
        branch, branch_key = self.branches.for_writing(read=read)
        key = os.urandom(KEY_BYTES)
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": subject},
                    "wrapped": {"B": wrap(branch_key, subject, key)},
                    "branch": {"S": branch},
                    "created_at": {"S": timestamp()},
                },
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return key
        except self._dynamodb.exceptions.ConditionalCheckFailedException as error:
            # ALL_OLD: the condition failed because the item exists, and DynamoDB returns it. No second read,
            # so the functions need no GetItem on this table (infra/permissions.py).
            old: Any = error.response.get("Item")
            existing: dict[str, Any] = dict(old or {})
        if not existing:
            raise LookupError(f"seal personal data of {subject}: the key exists but its item came back empty")
        return self._live(subject, self.unwrap(subject, existing))

    @staticmethod
    def _live(subject: str, key: bytes | None) -> bytes:
        if key is None:
            raise SubjectForgotten(subject, "seal personal data")
        return key

    def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """Each subject's key, or None when it has none (never had one, or forgotten); one batch of reads."""
        wanted = list(dict.fromkeys(subjects))
        found: dict[str, bytes | None] = dict.fromkeys(wanted)
        chunk = BATCH_GET_LIMIT - 1  # room for the branch item `key_request` may add
        for start in range(0, len(wanted), chunk):
            request = {self._table: self.key_request(wanted[start : start + chunk])}
            items = batch_get(self._dynamodb, request, f"read data keys from {self._table}")[self._table]
            found |= self.unwrap_found(items)
        return found

    @property
    def table(self) -> str:
        """The keys table's name."""
        return self._table

    def key_request(self, subjects: Iterable[str]) -> dict[str, Any]:
        """The BatchGetItem request for these subjects' key items in the keys table (strongly consistent), and
        for the current branch item when this container has not unwrapped it: the same read brings it along."""
        keys = [{"pk": {"S": s}} for s in subjects]
        current = self.branches.current()
        if not self.branches.holds(current):
            keys.append({"pk": {"S": current}})
        return {"Keys": keys, "ConsistentRead": True}

    def unwrap_found(self, items: Iterable[dict[str, Any]]) -> dict[str, bytes | None]:
        """Each subject's key from the items a `key_request` found (None for a tombstone); branch items kept."""
        items = list(items)
        for item in items:
            if is_branch(item):
                self.branches.accept(item)
        return {str(item["pk"]["S"]): self.unwrap(str(item["pk"]["S"]), item) for item in items if not is_branch(item)}

    def forget(self, subject: str) -> None:
        """Delete the subject's key for good and remember that it was deleted; forgetting twice is a no-op."""
        self._dynamodb.put_item(TableName=self._table, Item={"pk": {"S": subject}, "forgotten_at": {"S": timestamp()}})

    def unwrap(self, subject: str, item: dict[str, Any]) -> bytes | None:
        """The subject's key from its item, or None for a tombstone: under its branch key (kept, or read and
        unwrapped once), or, for an item written before branch keys, by one KMS Decrypt."""
        wrapped = item.get("wrapped", {}).get("B")
        if wrapped is None:
            return None
        if "branch" in item:
            return unwrap(self.branches.key(str(item["branch"]["S"])), subject, wrapped)
        return self._kms.decrypt(CiphertextBlob=wrapped, EncryptionContext=_context(subject))["Plaintext"]


def _context(subject: str) -> dict[str, str]:
    # KMS binds the wrapped key to its subject: a wrapped key copied to another item does not unwrap.
    return {"subject": subject}


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
