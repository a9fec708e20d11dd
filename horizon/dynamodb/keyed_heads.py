"""A cold head and its data key in one request: the tip of an aggregate holding personal data and its subject's
key item, read by one BatchGetItem across the events and keys tables.

A command on a sealed aggregate needs both: the tip to decide, the key to open the snapshot. Read one after the
other they are two round trips before the write; read together, a cold command is one read and one write, as
for an aggregate without personal data. Only when the key cache does not hold the subject's key already: a warm
key costs nothing, and the tip is read alone as before. Each item costs what its own read would (strongly
consistent, 4 KB units), so this saves a round trip and no capacity. When the container holds no branch key
for this month, the month's branch item rides along too (horizon/dynamodb/branch_keys.py). A tombstone (a
forgotten subject) is not cached; opening the head then reads it again, as it did before.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from uuid import UUID

from horizon.dynamodb.batch_get import batch_get
from horizon.dynamodb.claims import DynamoDBClaimingEventStore
from horizon.dynamodb.layout import TIP_SORT_KEY, decode_head, stream_key
from horizon.dynamodb.tips import TipCache
from horizon.eventstore import Head
from horizon.privacy.marking import subject_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from horizon.dynamodb.datakeys import DynamoDBDataKeys
    from horizon.privacy.cache import CachedDataKeys


class KeyedHeadsEventStore(DynamoDBClaimingEventStore):
    """The DynamoDB event store whose cold head of a sealed aggregate brings its subject's data key along."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        keys: DynamoDBDataKeys,
        cache: CachedDataKeys,
        personal: Collection[str],
        tips: TipCache | None = None,
    ) -> None:
        super().__init__(client, table_name, tips=tips)
        self._keys = keys
        self._cache = cache
        self._personal = frozenset(personal)

    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        """Return the aggregate's head (version 0 when it has no events), with its data key in the same read."""
        subject = subject_of(aggregate_type, aggregate_id)
        if aggregate_type not in self._personal or self._cache.holds(subject):
            return super().load_head(aggregate_type, aggregate_id)
        tip_key = {"pk": {"S": stream_key(aggregate_type, aggregate_id)}, "sk": {"N": TIP_SORT_KEY}}
        request: dict[str, Any] = {
            self._table: {"Keys": [tip_key], "ConsistentRead": True},
            self._keys.table: self._keys.key_request([subject]),
        }
        found = batch_get(self._client, request, f"load the head of {aggregate_type} {aggregate_id}")
        for found_subject, key in self._keys.unwrap_found(found[self._keys.table]).items():
            self._cache.prime(found_subject, key)
        tips = found[self._table]
        if not tips:
            return Head(0)
        self._tips.remember(tips[0])
        return decode_head(tips[0])
