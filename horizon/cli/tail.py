"""Following new commits live: read the events table's DynamoDB stream, shard by shard, until stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from horizon.cli.target import TargetError
from horizon.dynamodb.streams import decode_record, shard_ids
from horizon.events import Event

IDLE_SECONDS = 1.0
RESCAN_SECONDS = 10.0
"""How often to look for new shards (DynamoDB rolls a stream's shards over every few hours)."""


def follow(
    dynamodb: Any,
    streams: Any,
    table: str,
    *,
    from_start: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Event]:
    """Yield the events of every commit written to `table` from now on (or from the stream's oldest record)."""
    arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    if not arn:
        raise TargetError(f"tail {table}: the table has no stream")
    iterators: dict[str, str | None] = {}
    first, scanned = True, float("-inf")
    while True:
        if clock() - scanned >= RESCAN_SECONDS:
            for shard_id in shard_ids(streams, arn):
                if shard_id not in iterators:
                    # Shards that exist when we start begin at the tip; shards born later are read whole.
                    kind = "LATEST" if first and not from_start else "TRIM_HORIZON"
                    iterators[shard_id] = streams.get_shard_iterator(
                        StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind
                    )["ShardIterator"]
            first, scanned = False, clock()
        quiet = True
        for shard_id, iterator in list(iterators.items()):
            if iterator is None:
                continue
            page = streams.get_records(ShardIterator=iterator)
            iterators[shard_id] = page.get("NextShardIterator")
            for record in page.get("Records", []):
                quiet = False
                yield from decode_record(record)
        if quiet:
            sleep(IDLE_SECONDS)
