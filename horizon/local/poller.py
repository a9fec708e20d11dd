"""A local DynamoDB Streams event source mapping: batches, partial batch responses, retries, in order.

Like Lambda's mapping it reads from TRIM_HORIZON, hands each function batches in stream order, and on a
partial failure redelivers from the lowest failed record onwards (records before it are checkpointed). After
`max_attempts` failures of the same record it gives up on it, as MaximumRetryAttempts does, and keeps it in
`dead_letters` the way an on-failure destination would.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from horizon.local.lambda_context import LocalContext

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

logger = logging.getLogger(__name__)

StreamHandler = Callable[[dict[str, Any], Any], dict[str, Any] | None]


@dataclass
class Subscription:
    """One function subscribed to the stream, with its own queue of undelivered records."""

    name: str
    handler: StreamHandler
    accepts: Callable[[dict[str, Any]], bool] | None = None
    """The mapping's FilterCriteria: records it rejects never reach the handler."""
    pending: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    retry_at: float = 0.0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)


class StreamPoller:
    """Polls one stream and drives every subscription until `stop()`."""

    def __init__(
        self,
        client: DynamoDBStreamsClient,
        stream_arn: str,
        subscriptions: list[Subscription],
        *,
        batch_size: int = 100,
        max_attempts: int = 10,
        idle_seconds: float = 0.05,
        retry_base_seconds: float = 0.05,
    ) -> None:
        self._client = client
        self._arn = stream_arn
        self.subscriptions = subscriptions
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._idle = idle_seconds
        self._retry_base = retry_base_seconds
        self._iterators: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="horizon-streams", daemon=True)

    def start(self) -> None:
        """Begin polling in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the current batch to finish."""
        self._stop.set()
        self._thread.join(timeout=10)

    def poll_once(self) -> int:
        """Read new records and deliver due batches once; return how many records were read."""
        records = self._read()
        for subscription in self.subscriptions:
            accepts = subscription.accepts
            subscription.pending.extend(r for r in records if accepts is None or accepts(r))
            self._deliver(subscription)
        return len(records)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once() or any(s.pending for s in self.subscriptions)
            except Exception:
                logger.exception("stream poll failed; retrying")
                busy = False
            if not busy:
                self._stop.wait(self._idle)

    def _read(self) -> list[dict[str, Any]]:
        shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"].get("Shards", [])
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None:
                continue
            page = self._client.get_records(ShardIterator=iterator, Limit=1000)
            self._iterators[shard_id] = page.get("NextShardIterator")
            records.extend(self._as_lambda_record(r) for r in page.get("Records", []))  # type: ignore[arg-type]
        return records

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            # Lambda sends epoch seconds; the Streams API (and moto) give a timestamp.
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {**record, "dynamodb": dynamodb, "eventSourceARN": self._arn}

    def _deliver(self, subscription: Subscription) -> None:
        while subscription.pending and time.monotonic() >= subscription.retry_at:
            batch = subscription.pending[: self._batch_size]
            failed_at = self._invoke(subscription, batch)
            if failed_at is None:
                del subscription.pending[: len(batch)]
                subscription.attempts = 0
                continue
            # Checkpoint before the first failure; everything from it onwards comes again.
            del subscription.pending[:failed_at]
            subscription.attempts += 1
            if subscription.attempts >= self._max_attempts:
                poison = subscription.pending.pop(0)
                subscription.dead_letters.append(poison)
                subscription.attempts = 0
                logger.error("%s: gave up on record %s", subscription.name, poison["dynamodb"]["SequenceNumber"])
            else:
                subscription.retry_at = time.monotonic() + min(2.0, self._retry_base * 2**subscription.attempts)
            return

    def _invoke(self, subscription: Subscription, batch: list[dict[str, Any]]) -> int | None:
        """Deliver one batch; None on success, else the index of the first record to redeliver."""
        try:
            response = subscription.handler({"Records": batch}, LocalContext(subscription.name)) or {}
        except Exception:
            logger.exception("%s: the whole batch failed", subscription.name)
            return 0
        failures = {f.get("itemIdentifier") for f in response.get("batchItemFailures", [])}
        if not failures:
            return None
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        return min(sequence.index(f) for f in failures if f in sequence) if failures & set(sequence) else 0
