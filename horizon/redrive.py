"""Dead letters and re-drive: what a consumer gave up on, and processing it again from the events table.

A stream reader's failure destination (the stack's SQS queue; locally a moto SQS queue) receives a pointer to the
stream records (`DDBStreamBatchInfo`), never the records. Listing reads the pointed-to records to name the
aggregates and versions. A queued consumer's dead-letter queue (the fan-out, docs/deploy.md) holds the fan-out's
messages themselves, each one commit, which name their aggregate and versions. Re-drive never replays the records
or messages: it runs catch-up for each named aggregate (or, when the records left the stream's 24 h window, for
every aggregate), so the consumer's tracking decides what is new.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from horizon.catchup import Slice, catch_up
from horizon.consumers import SagaRuntime, TrackedConsumer
from horizon.dynamodb.layout import FIRST, VERSION, parse_stream_key
from horizon.dynamodb.streams import decode_record

DEAD_LETTERS_OUTPUT_SUFFIX = "DeadLetterQueueUrl"
"""The stack outputs `<Consumer>DeadLetterQueueUrl` for each queued consumer's dead-letter queue."""


@dataclass(frozen=True)
class Failed:
    """One aggregate's versions in a dead letter."""

    aggregate_type: str
    aggregate_id: UUID
    first: int
    last: int


@dataclass(frozen=True)
class DeadLetter:
    """A failure message: the function that gave up, the commits it held (if the stream still has them), why."""

    receipt: str
    function: str
    commits: tuple[Failed, ...]
    error: str
    expired: bool
    """The pointed-to records left the stream: re-drive then catches the consumers up on every aggregate."""


def read_letter(receipt: str, message: Mapping[str, Any], streams: Any, consumer: str | None = None) -> DeadLetter:
    """Decode one failure message and read the records it points to from the stream.

    `consumer` names the function whose dead-letter queue of the fan-out held the message (which is then the
    commit itself, not a pointer).
    """
    image = message.get("dynamodb", {}).get("NewImage", {})
    if consumer is not None and FIRST in image:
        aggregate_type, aggregate_id = parse_stream_key(image["pk"]["S"])
        failed = Failed(aggregate_type, aggregate_id, int(image[FIRST]["N"]), int(image[VERSION]["N"]))
        return DeadLetter(receipt, consumer, (failed,), "MaxReceiveCountExceeded", False)
    context = message.get("requestContext", {})
    response = message.get("responseContext", {})
    function = str(context.get("functionArn", "unknown")).rsplit(":", 1)[-1]
    error = " ".join(
        str(part)
        for part in (context.get("condition"), response.get("functionError"), message.get("errorMessage"))
        if part
    )
    info = message.get("DDBStreamBatchInfo")
    if not info:
        return DeadLetter(receipt, function, (), error or "no stream batch info", True)
    try:
        commits = tuple(_commits(streams, info))
    except Exception as gone:  # trimmed past retention, or the stream was replaced: fall back to everything
        return DeadLetter(receipt, function, (), f"{error} (records unreadable: {type(gone).__name__})", True)
    return DeadLetter(receipt, function, commits, error, not commits)


def _commits(streams: Any, info: Mapping[str, Any]) -> Iterator[Failed]:
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end = int(info["endSequenceNumber"])
    page = streams.get_records(ShardIterator=iterator, Limit=max(1, int(info.get("batchSize", 1))))
    for record in page.get("Records", []):
        if int(record["dynamodb"]["SequenceNumber"]) > end:
            return
        events = decode_record(record)
        if events:
            head = events[0]
            yield Failed(head.aggregate_type, head.aggregate_id, head.version, events[-1].version)


def consumers_of(letter: DeadLetter, consumers: Mapping[str, TrackedConsumer]) -> list[TrackedConsumer]:
    """The consumers a failed function runs: a saga function runs the sagas, a projector function the projectors.

    A function named after one consumer is that consumer; the fan-out function stands for every consumer.
    Re-driving a consumer that had not failed is harmless.
    """
    by_name = {name.lower(): consumer for name, consumer in consumers.items()}
    if letter.function.lower() in by_name:  # the local queues name their consumer in lower case
        return [by_name[letter.function.lower()]]
    if "fanout" in letter.function.lower():  # the dispatcher gave up: no queued consumer saw those commits
        return list(consumers.values())
    sagas = "saga" in letter.function.lower()
    return [c for c in consumers.values() if isinstance(c, SagaRuntime) == sagas]


def redrive(letter: DeadLetter, consumers: Mapping[str, TrackedConsumer]) -> dict[str, str]:
    """Catch the letter's consumers up on its aggregates (all of them when expired); the failures, by aggregate."""
    failed: dict[str, str] = {}
    for consumer in consumers_of(letter, consumers):
        if letter.expired:
            failed |= catch_up(consumer).failed
        for commit in letter.commits:
            failed |= catch_up(consumer, where=Slice(commit.aggregate_type, commit.aggregate_id)).failed
    return failed


def parse_body(body: str) -> dict[str, Any]:
    """A queue message's body; anything that is not a JSON object reads as a letter without batch info."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
