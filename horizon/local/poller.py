"""A local DynamoDB Streams event source mapping: batches, partial batch responses, retries, in order.

Like Lambda's mapping, each subscription reads the stream on its own from its checkpoint (TRIM_HORIZON the
first time), hands its function batches in stream order, and on a partial failure redelivers from the lowest
failed record onwards (the records before it are checkpointed). Attempts are counted per record: after
`retry.attempts` failures of the same record it gives up on that record, as MaximumRetryAttempts does, and sends
a pointer to it to the dead letters, the way an on-failure destination does. Checkpoints live in a
`Checkpoints` store, so a restarted poller resumes where the last one stopped.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from horizon.dynamodb.streams import shard_ids
from horizon.local.deadletters import DeadLetters, MemoryDeadLetters
from horizon.local.lambda_context import LocalContext
from horizon.retry import STREAM_REDELIVERY, RetryPolicy

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

    from horizon.local.checkpoints import Checkpoints

logger = logging.getLogger(__name__)

SHARDS_TTL_SECONDS = 5.0

StreamHandler = Callable[[dict[str, Any], Any], dict[str, Any] | None]


def as_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A Streams API record in the shape Lambda hands a function."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        # Lambda sends epoch seconds; the Streams API (and moto) give a timestamp.
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("NewImage", "OldImage"):
        if image in dynamodb:
            dynamodb[image] = {name: _as_json(value) for name, value in dynamodb[image].items()}
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


def _as_json(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as Lambda's JSON carries it: binaries base64-encoded, as the API's bytes are not."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {kind: _base64(inner)}
    if kind == "BS":
        return {kind: [_base64(item) for item in inner]}
    if kind == "L":
        return {kind: [_as_json(item) for item in inner]}
    if kind == "M":
        return {kind: {name: _as_json(item) for name, item in inner.items()}}
    return value


def _base64(binary: bytes | str) -> str:
    # A record already in Lambda's shape carries text: left as it is, so converting twice changes nothing.
    return binary if isinstance(binary, str) else base64.b64encode(binary).decode()


@dataclass
class Pending:
    """A record read from the stream and not yet done with; `accepted` is the filter's verdict."""

    shard_id: str
    record: dict[str, Any]
    accepted: bool

    @property
    def sequence_number(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])


@dataclass
class Subscription:
    """One function subscribed to the stream, with its own read position and queue of undelivered records."""

    name: str
    handler: StreamHandler
    accepts: Callable[[dict[str, Any]], bool] | None = None
    """The mapping's FilterCriteria: records it rejects never reach the handler."""
    queue: list[Pending] = field(default_factory=list)
    iterators: dict[str, str | None] = field(default_factory=dict)
    failing: tuple[str, int] | None = None
    """(sequence number, failures so far) of the record the subscription is stuck on."""
    retry_at: float = 0.0

    @property
    def pending(self) -> list[dict[str, Any]]:
        """The accepted records still to deliver, in stream order."""
        return [p.record for p in self.queue if p.accepted]


class StreamPoller:
    """Polls one stream and drives every subscription until `stop()`."""

    def __init__(
        self,
        client: DynamoDBStreamsClient,
        stream_arn: str,
        subscriptions: list[Subscription],
        *,
        checkpoints: Checkpoints | None = None,
        dead_letters: DeadLetters | None = None,
        batch_size: int = 100,
        retry: RetryPolicy = STREAM_REDELIVERY,
        idle_seconds: float = 0.1,
    ) -> None:
        self._client = client
        self._arn = stream_arn
        self.subscriptions = subscriptions
        self._checkpoints = checkpoints
        self.dead_letters = dead_letters if dead_letters is not None else MemoryDeadLetters()
        self._batch_size = batch_size
        self._retry = retry
        self._idle = idle_seconds
        self._shards: list[str] = []
        self._shards_read_at = -1e9
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
        read = 0
        for subscription in self.subscriptions:
            for shard_id in self._current_shards():
                records = self._read(subscription, shard_id)
                read += len(records)
                accepts = subscription.accepts
                subscription.queue.extend(Pending(shard_id, r, accepts is None or accepts(r)) for r in records)
            self._deliver(subscription)
        return read

    def _current_shards(self) -> list[str]:
        # Shards change rarely (every few hours on AWS): look again every few seconds, not on every poll.
        if time.monotonic() - self._shards_read_at > SHARDS_TTL_SECONDS:
            self._shards = shard_ids(self._client, self._arn)
            self._shards_read_at = time.monotonic()
        return self._shards

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once() or any(s.queue for s in self.subscriptions)
            except Exception:
                logger.exception("stream poll failed; retrying")
                busy = False
            if not busy:
                self._stop.wait(self._idle)

    def _read(self, subscription: Subscription, shard_id: str) -> list[dict[str, Any]]:
        if shard_id not in subscription.iterators:
            subscription.iterators[shard_id] = self._first_iterator(subscription.name, shard_id)
        iterator = subscription.iterators[shard_id]
        if iterator is None:
            return []
        page = self._client.get_records(ShardIterator=iterator, Limit=1000)
        subscription.iterators[shard_id] = page.get("NextShardIterator")
        return [as_lambda_record(r, self._arn) for r in page.get("Records", [])]  # type: ignore[arg-type]

    def _first_iterator(self, consumer: str, shard_id: str) -> str:
        position = self._checkpoints.get(consumer, shard_id) if self._checkpoints else None
        if position is None:
            return self._client.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        return self._client.get_shard_iterator(
            StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=position
        )["ShardIterator"]

    def _deliver(self, subscription: Subscription) -> None:
        while subscription.queue and time.monotonic() >= subscription.retry_at:
            window = subscription.queue[: self._batch_size]
            batch = [p.record for p in window if p.accepted]
            failed = self._invoke(subscription, batch) if batch else None
            if failed is None:
                self._done(subscription, len(window))
                subscription.failing = None
                continue
            # Checkpoint before the first failure; everything from it onwards comes again.
            head = next(i for i, p in enumerate(window) if p.record is batch[failed])
            self._done(subscription, head)
            self._failed(subscription)
            return

    def _failed(self, subscription: Subscription) -> None:
        head = subscription.queue[0]
        sequence = head.sequence_number
        attempts = subscription.failing[1] + 1 if subscription.failing and subscription.failing[0] == sequence else 1
        if attempts < self._retry.attempts:
            subscription.failing = (sequence, attempts)
            subscription.retry_at = time.monotonic() + self._retry.pause(attempts)
            return
        self.dead_letters.send(subscription.name, self._arn, head.shard_id, head.record, attempts)
        logger.error("%s: gave up on record %s after %d attempts", subscription.name, sequence, attempts)
        subscription.failing = None
        self._done(subscription, 1)

    def _done(self, subscription: Subscription, count: int) -> None:
        """Drop the first `count` records of the queue and checkpoint the last of them."""
        if count <= 0:
            return
        done = subscription.queue[:count]
        del subscription.queue[:count]
        if self._checkpoints is not None:
            last: dict[str, str] = {}
            for pending in done:
                last[pending.shard_id] = pending.sequence_number
            for shard_id, sequence in last.items():
                self._checkpoints.put(subscription.name, shard_id, sequence)

    def _invoke(self, subscription: Subscription, batch: list[dict[str, Any]]) -> int | None:
        """Deliver one batch; None on success, else the index of the first record to redeliver."""
        started = time.perf_counter()
        try:
            response = subscription.handler({"Records": batch}, LocalContext(subscription.name)) or {}
        except Exception:
            logger.exception("%s: the whole batch failed", subscription.name)
            response = {"batchItemFailures": [{"itemIdentifier": batch[0]["dynamodb"]["SequenceNumber"]}]}
        failures = {f.get("itemIdentifier") for f in response.get("batchItemFailures", [])}
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        first = min(sequence.index(f) for f in failures if f in sequence) if failures & set(sequence) else 0
        logger.info(
            "%s: %d records in %.0f ms, %d failed",
            subscription.name,
            len(batch),
            (time.perf_counter() - started) * 1000,
            len(failures),
        )
        return first if failures else None
