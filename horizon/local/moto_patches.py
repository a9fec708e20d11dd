"""Flat memory and latency for long-running moto: workarounds for moto 5.2.5, applied by `patch_moto()`.

1. `DynamoDBBackend.transact_write_items` deep-copies every table a transaction touches, so that it can put the
   copy back if the transaction is cancelled. Each transaction therefore costs time and memory in proportion to
   the whole table. We snapshot only the items the transaction touches (and the length of each table's stream
   shard) and restore those on cancellation: the same outcome, at a cost in proportion to the transaction.
2. `BaseModel.__new__` appends every model instance ever created to a class-level list (`instances_tracked`,
   read only by moto's dashboard), so every item version, every stream record and every deep copy above stays
   alive for the life of the process. We stop tracking instances of the services the local stack uses.
3. `Table.query` on the base table gathers its candidates from `Table.all_items()`, which sorts every item of
   the table on each call, so a query costs O(n log n) in the table's size instead of the partition's. While
   a base-table query runs we hand it the queried partition only; moto still sorts and filters it itself.
4. `DynamoDBStreamsBackend` keeps every shard iterator it ever issued (each GetRecords issues one), where
   DynamoDB expires them after 15 minutes. A poller issues thousands an hour; we keep the newest 1,000.

Two more make moto behave as AWS does where the local stack relies on it: KMS keys that a replayed journal
recreates identically, and FIFO message groups released as soon as their messages are visible again.

See docs/local.md ("moto's memory growth") for the measurements and an upstream-ready description.
"""

from __future__ import annotations

import copy
import functools
import threading
import types
from typing import Any

UNTRACKED_SERVICES = frozenset({"dynamodb", "dynamodbstreams", "sqs", "kms"})
"""Services whose model instances moto's tracker should not keep alive (moto's S3 reads its tracker: not S3)."""

_lock = threading.Lock()
_patched = False


def patch_moto() -> None:
    """Apply both workarounds to the imported moto; calling it again does nothing."""
    global _patched
    with _lock:
        if _patched:
            return
        _stop_instance_tracking()
        _snapshot_touched_items_only()
        _query_the_partition_only()
        _forget_old_shard_iterators()
        _replayable_kms_keys()
        _fifo_groups_free_when_visible()
        _patched = True


def _fifo_groups_free_when_visible() -> None:
    """A FIFO message group is held only while one of its messages is invisible, as on SQS.

    moto counts a message in flight until a later receive meets it visible again, one message at a time, so
    after a receive with VisibilityTimeout=0 (listing a dead-letter queue, or a retry made visible at once) the
    group's other messages still hold it and only one message per receive comes back. Forgetting, before each
    receive, the in-flight marks of messages that are visible again gives SQS's answer.
    """
    from moto.sqs.models import SQSBackend

    original = SQSBackend.receive_message

    @functools.wraps(original)
    def receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        for message in [m for m in queue.pending_messages if m.visible]:
            queue.pending_messages.discard(message)
        return original(self, queue_name, *args, **kwargs)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _replayable_kms_keys() -> None:
    """A KMS key's id and material follow from how many keys existed before it (local stack only).

    The data plane restores its state by replaying journaled requests; a CreateKey replayed with random
    material would leave every data key wrapped before the restart impossible to unwrap. Fake keys in a fake
    account, so determinism costs nothing here.
    """
    import hashlib
    import uuid

    from moto.kms.models import KmsBackend

    original = KmsBackend.create_key

    @functools.wraps(original)
    def create_key(self: KmsBackend, *args: Any, **kwargs: Any) -> Any:
        ordinal = len(self.keys)
        key = original(self, *args, **kwargs)
        del self.keys[key.id]
        key.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"horizon-local-kms/{ordinal}"))
        key.arn = key.arn.rpartition("/")[0] + "/" + key.id
        key.key_material = hashlib.sha256(f"horizon-local-kms/{ordinal}".encode()).digest()
        self.keys[key.id] = key
        return key

    KmsBackend.create_key = create_key  # type: ignore[method-assign]


def _stop_instance_tracking() -> None:
    from moto.core.common_models import BaseModel

    tracking_new = BaseModel.__new__

    def untracked_new(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        if cls.__module__.split(".")[1] in UNTRACKED_SERVICES:
            # What BaseModel.__new__ does, minus the append to cls.instances_tracked.
            return super(BaseModel, cls).__new__(cls)
        return tracking_new(cls, *args, **kwargs)

    BaseModel.__new__ = untracked_new  # type: ignore[method-assign]


def _snapshot_touched_items_only() -> None:
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    def deepcopy_unless_table(value: Any, memo: dict[int, Any] | None = None) -> Any:
        # transact_write_items is the module's only caller that copies a Table; it then "restores" the very
        # table it was handed, a no-op, and the wrapper below restores the touched items instead.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    dynamodb_models.copy = types.SimpleNamespace(  # type: ignore[attr-defined, assignment]
        deepcopy=deepcopy_unless_table, copy=copy.copy
    )
    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        snapshot = _Snapshot(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            snapshot.restore()
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_query_scope = threading.local()


def _query_the_partition_only() -> None:
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    @functools.wraps(original_query)
    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        # Thread-local, so that a scan or another table's query running meanwhile sees every item.
        _query_scope.partition = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.partition = None

    @functools.wraps(original_all_items)
    def all_items(self: Table) -> list[Any]:
        scope = getattr(_query_scope, "partition", None)
        if scope is None or scope[0] is not self:
            return original_all_items(self)
        hash_key = scope[1]
        if hash_key not in self.items:  # self.items is a defaultdict: a lookup would create the partition
            return []
        partition = self.items[hash_key]
        return list(partition.values()) if self.range_key_attr else [partition]

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


SHARD_ITERATORS_KEPT = 1_000


def _forget_old_shard_iterators() -> None:
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    def bounded(method: Any) -> Any:
        @functools.wraps(method)
        def call(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            iterators = self.shard_iterators
            while len(iterators) > SHARD_ITERATORS_KEPT:
                del iterators[next(iter(iterators))]  # dicts keep insertion order: the oldest goes first
            return result

        return call

    DynamoDBStreamsBackend.get_shard_iterator = bounded(  # type: ignore[method-assign]
        DynamoDBStreamsBackend.get_shard_iterator
    )
    DynamoDBStreamsBackend.get_records = bounded(DynamoDBStreamsBackend.get_records)  # type: ignore[method-assign]


def _table(backend: Any, name: Any) -> Any:
    """The table a transaction names (by name or ARN, as moto resolves it), or None when moto will reject it."""
    try:
        return backend.get_table(name)
    except Exception:
        return None


class _Snapshot:
    """The items a transaction may write, as they were before it, and each touched table's stream length."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        self._items: list[tuple[Any, Any, Any, Any]] = []
        self._streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            for op in entry.values():
                table = _table(backend, op.get("TableName")) if isinstance(op, dict) else None
                if table is None:
                    continue
                key = op.get("Key") or op.get("Item") or {}
                if table.hash_key_attr not in key or (table.has_range_key and table.range_key_attr not in key):
                    continue  # moto rejects the transaction before writing anything
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.has_range_key else None
                before = table.get_item(hash_key, range_key)
                # Update mutates the stored item in place, so keep a copy, not a reference.
                self._items.append((table, hash_key, range_key, copy.deepcopy(before)))
                shard = table.stream_shard
                if shard is not None and id(table) not in self._streams:
                    self._streams[id(table)] = (shard, len(shard.items))

    def restore(self) -> None:
        """Put every touched item back as it was and drop the stream records the transaction wrote."""
        for table, hash_key, range_key, before in reversed(self._items):
            if range_key is None:
                if before is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = before
                continue
            partition = table.items[hash_key]
            if before is None:
                partition.pop(range_key, None)
                if not partition:
                    del table.items[hash_key]
            else:
                partition[range_key] = before
        for shard, length in self._streams.values():
            del shard.items[length:]
