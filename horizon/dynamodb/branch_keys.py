"""Branch keys: the middle of the key hierarchy, so a subject's data key costs no KMS request.

KMS wraps one branch key a month (an item `_branch#YYYY-MM` in the keys table, its encryption context the branch
id). Each subject's data key is made locally and wrapped under the current branch key with AES-GCM, the subject
as associated data, so a wrapped key copied to another subject's item does not unwrap. A container unwraps a
branch key once (one KMS Decrypt) and keeps it for `BRANCH_TTL_SECONDS`; the AWS Database Encryption SDK's
hierarchical keyring works the same way. Forgetting still shreds: the subject's wrapped key is overwritten by a
tombstone, and a branch key alone recovers nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from horizon.bounded_cache import BoundedCache
from horizon.dynamodb.batch_get import batch_get

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

BRANCH_PREFIX = "_branch#"
"""The keys table's `pk` of a branch item; no subject begins so (subjects are `<aggregate type>#<id>`)."""

BRANCH_TTL_SECONDS = 900.0
"""How long a container keeps a branch key it unwrapped: one KMS Decrypt per container per quarter hour."""

NONCE_BYTES = 12
KEY_BYTES = 32


def branch_of(now: datetime) -> str:
    """The id of the branch key that wraps the data keys made at `now`: a new one each month."""
    return f"{BRANCH_PREFIX}{now:%Y-%m}"


def is_branch(item: dict[str, Any]) -> bool:
    """True for a branch item of the keys table."""
    return str(item["pk"]["S"]).startswith(BRANCH_PREFIX)


class BranchKeys:
    """The branch keys of one keys table, unwrapped by KMS on first use and kept a while; clients injected."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        kms: KMSClient,
        table: str,
        kms_key_id: str,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dynamodb = dynamodb
        self._kms = kms
        self._table = table
        self._kms_key_id = kms_key_id
        self._now = now
        self._keys: BoundedCache[str, bytes] = BoundedCache(max_entries=24, ttl_seconds=BRANCH_TTL_SECONDS, clock=clock)

    def current(self) -> str:
        """The id of the branch key new data keys are wrapped under now."""
        return branch_of(self._now())

    def holds(self, branch: str) -> bool:
        """Whether this container has the branch key unwrapped already."""
        return self._keys.get(branch) is not None

    def for_writing(self, *, read: bool = True) -> tuple[str, bytes]:
        """The current branch id and key: kept, else read and unwrapped, else created (once a month, by one).

        `read=False`: the caller has just read the table and found no branch item, so it is created at once."""
        branch = self.current()
        kept = self._kept_or_read(branch) if read else self._keys.get(branch)
        if kept is not None:
            return branch, kept
        generated = self._kms.generate_data_key(
            KeyId=self._kms_key_id, KeySpec="AES_256", EncryptionContext={"branch": branch}
        )
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": branch},
                    "wrapped": {"B": generated["CiphertextBlob"]},
                    "created_at": {"S": timestamp()},
                },
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException as error:
            old: Any = error.response.get("Item")  # another container created it first: use theirs
            return branch, self.accept(dict(old or {}))
        self._keys.put(branch, generated["Plaintext"], KEY_BYTES)
        return branch, generated["Plaintext"]

    def key(self, branch: str) -> bytes:
        """One branch key: kept, else read and unwrapped (LookupError if the table has no such branch)."""
        key = self._kept_or_read(branch)
        if key is None:
            raise LookupError(f"unwrap a data key: branch key {branch} is missing from {self._table}")
        return key

    def _kept_or_read(self, branch: str) -> bytes | None:
        kept = self._keys.get(branch)
        if kept is not None:
            return kept
        found = batch_get(self._dynamodb, {self._table: self.request([branch])}, f"read branch key {branch}")
        return self.accept(found[self._table][0]) if found[self._table] else None

    @staticmethod
    def request(branches: list[str]) -> dict[str, Any]:
        """The BatchGetItem request for branch items (strongly consistent: a new branch is read right away)."""
        return {"Keys": [{"pk": {"S": branch}} for branch in branches], "ConsistentRead": True}

    def accept(self, item: dict[str, Any]) -> bytes:
        """Unwrap a branch item read elsewhere (one KMS Decrypt) and keep its key."""
        branch = str(item["pk"]["S"])
        if "wrapped" not in item:
            raise LookupError(f"unwrap branch key {branch}: its item holds no key")
        key = self._kms.decrypt(CiphertextBlob=item["wrapped"]["B"], EncryptionContext={"branch": branch})["Plaintext"]
        self._keys.put(branch, key, KEY_BYTES)
        return key

    def clear(self) -> None:
        """Forget every unwrapped branch key (after a SnapStart restore: a snapshot must not carry one)."""
        self._keys.clear()


def wrap(branch_key: bytes, subject: str, data_key: bytes) -> bytes:
    """A data key wrapped under a branch key: nonce, then AES-GCM ciphertext bound to the subject."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(branch_key).encrypt(nonce, data_key, _bound(subject))


def unwrap(branch_key: bytes, subject: str, wrapped: bytes) -> bytes:
    """The data key `wrap` wrapped for this subject; SealedDataCorrupt if it was wrapped for another, or altered."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(branch_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _bound(subject))
    except InvalidTag as error:
        from horizon.privacy.cipher import SealedDataCorrupt

        raise SealedDataCorrupt(f"unwrap the data key of {subject}: wrapped for another subject, or altered") from error


def _bound(subject: str) -> bytes:
    return f"horizon-data-key|{subject}".encode()


def timestamp() -> str:
    """When a key item is written, as it records it."""
    return datetime.now(UTC).isoformat()
