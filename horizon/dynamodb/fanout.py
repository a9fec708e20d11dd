"""The fan-out: commits from the events table's stream to each queued consumer's SQS FIFO queue, and back to commits.

The stream serves about two readers per shard, so it has exactly two: the projector, and the dispatcher here,
which sends each commit to the FIFO queue of every further consumer that reacts to it (docs/deploy.md, "Fan-out").
It sends them straight to the queues with SendMessageBatch, which SQS bills per request of up to ten messages,
where an SNS FIFO topic would bill each publish and each delivery's send. The stack names every queued consumer's
queue and the event types it reacts to (`reacts_to` on a Saga or Projector) in the dispatcher's environment
(`FANOUT_QUEUES`): a queue never receives, and its function is never invoked for, a commit its consumer would not
act on, and a commit no queued consumer reacts to is sent nowhere and reported done.

A message is the stream record itself with its tip image cut down to the commit, so a consumer decodes it with
the stream's own parser (`decode_record`) and runs the same tracking, deduplication, gap repair and outbox. The
message group is the aggregate, so each queue keeps an aggregate's commits in order and a failing aggregate holds
up only itself; the deduplication id is the aggregate and version, so a record the stream delivers twice within
five minutes is queued once. So that a consumer need not read back the versions it was never sent, a message also
names the stored types of the events the tip still held before the commit (`preceding`): versions of types the
consumer does not react to are passed without a read (horizon/consumers/tracked.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from horizon.dynamodb import layout
from horizon.dynamodb.layout import EVENTS, FIRST, VERSION, parse_stream_key
from horizon.dynamodb.routes import Route
from horizon.dynamodb.streams import Loader, decode_record, is_commit_record
from horizon.events import Event
from horizon.projection import EventTypes, concerns, joined

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

QUEUE_SOURCE = "aws:sqs"
"""The `eventSource` of the records Lambda hands a function from an SQS queue."""

MAX_MESSAGE_BYTES = 262_144
"""The message cap this dispatcher keeps to, on one message and on one SendMessageBatch request altogether."""

MAX_BATCH_ENTRIES = 10
"""SendMessageBatch's cap on entries per request."""

MAX_ID_LENGTH = 128
"""SQS FIFO's cap on a message group id and a deduplication id."""

PRECEDING = "preceding"
"""The message image's list of the stored types of the tip's pending events before the commit, in version order."""


@dataclass(frozen=True)
class Message:
    """One commit as the dispatcher publishes it."""

    record_id: str
    """The stream record's sequence number: what a partial batch response names."""
    group: str
    deduplication_id: str
    body: str
    event_types: tuple[str, ...] = ()
    """The commit's distinct event types, in order: what decides the queues it goes to."""

    def size(self) -> int:
        """What counts toward the message cap: the body (a message carries no attributes)."""
        return len(self.body.encode())


def message_of(record: dict[str, Any]) -> Message | None:
    """The message for a stream record: its tip image cut to the commit (or to a pointer when too large)."""
    if not is_commit_record(record):
        return None
    dynamodb = record["dynamodb"]
    image = dynamodb["NewImage"]
    version = int(image[VERSION]["N"])
    # The tip also holds earlier pending events, the snapshot and command records: consumers need none of them.
    commit = {key: image[key] for key in ("pk", "sk", VERSION, FIRST)}
    # Unpacked: a message's JSON carries strings, and a commit's envelopes alone deflate little.
    bodies, earlier = layout.commit_bodies(image)
    commit[EVENTS] = {"L": [{"S": body} for body in bodies]}
    types = tuple(dict.fromkeys(_type_of(body) for body in bodies))
    if earlier:
        # The versions right before the commit, as this very tip holds them: a filtered consumer passes those
        # of types it does not react to instead of reading them back.
        commit[PRECEDING] = {"L": [{"S": kind} for _, kind in sorted(earlier.items())]}
    carried = {
        key: dynamodb[key] for key in ("Keys", "SequenceNumber", "ApproximateCreationDateTime") if key in dynamodb
    }
    envelope = {"eventName": record["eventName"], "eventSourceARN": record.get("eventSourceARN")}
    body = json.dumps({**envelope, "dynamodb": {**carried, "NewImage": commit}}, separators=(",", ":"))
    pk = str(image["pk"]["S"])
    message = Message(str(dynamodb["SequenceNumber"]), _bounded(pk), _bounded(f"{pk}#{version}"), body, types)
    if message.size() > MAX_MESSAGE_BYTES:
        # A commit may hold 256 kB of envelopes; the consumer reads such a commit from the events table.
        del commit[EVENTS]
        body = json.dumps({**envelope, "dynamodb": {**carried, "NewImage": commit}}, separators=(",", ":"))
        message = replace(message, body=body)
    return message


def _type_of(body: str) -> str:
    return str(json.loads(body)["t"])


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_ID_LENGTH else hashlib.sha256(text.encode()).hexdigest()


Publisher = Callable[[Sequence[Message]], set[str]]
"""Publishes messages in order (at most one SendMessageBatch's worth); returns the record ids that failed."""


def publish_stream_batch(
    event: dict[str, Any], publish: Publisher, published: EventTypes = None
) -> dict[str, list[dict[str, str]]]:
    """Publish the commits of a stream batch that hold a `published` type (None: every commit), in stream order;
    the partial batch response names what failed.

    A commit with none of those types is no queued consumer's business: it is skipped and counts as done. After
    an aggregate's message fails, its later commits (skipped ones too) are not published but reported too, so
    Lambda redelivers them after it and no queue ever carries an aggregate's commits out of order.
    """
    failed: list[str] = []
    pending: list[Message] = []
    for record in event.get("Records", []):
        try:
            message = message_of(record)
        except Exception:  # an unreadable record is reported, not allowed to sink the batch
            logger.exception("undecodable stream record %s", record.get("eventID"))
            failed.append(str(record["dynamodb"]["SequenceNumber"]))
            continue
        if message is not None:
            pending.append(message)
    held: set[str] = set()
    held_groups: set[str] = set()
    for chunk in _chunks([message for message in pending if concerns(published, message.event_types)]):
        sendable = [message for message in chunk if message.group not in held_groups]
        refused = publish(sendable) if sendable else set()
        for message in chunk:
            if message.group in held_groups or message.record_id in refused:
                held_groups.add(message.group)
                held.add(message.record_id)
    # In stream order, a failed aggregate's later commits with it, skipped ones too: the response then says the
    # aggregate is done up to its failure only, whatever a later commit holds.
    failed_groups: set[str] = set()
    for message in pending:
        if message.record_id in held or message.group in failed_groups:
            failed_groups.add(message.group)
            failed.append(message.record_id)
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in failed]}


def _chunks(messages: Sequence[Message]) -> list[list[Message]]:
    """PublishBatch-sized chunks in order, each with at most one message per group: when an entry is refused,
    its aggregate's next commit is in a later chunk, which can then hold it back."""
    chunks: list[list[Message]] = [[]]
    size = 0
    groups: set[str] = set()
    for message in messages:
        weight = message.size()
        full = len(chunks[-1]) == MAX_BATCH_ENTRIES or size + weight > MAX_MESSAGE_BYTES
        if chunks[-1] and (full or message.group in groups):
            chunks.append([])
            size, groups = 0, set()
        chunks[-1].append(message)
        size += weight
        groups.add(message.group)
    return [chunk for chunk in chunks if chunk]


class QueuePublisher:
    """Sends each message to the queue of every route that reacts to its commit, with SendMessageBatch
    (sqs:SendMessage on those queues is all it needs).

    A message one queue refuses fails its record, so the stream delivers it (and its aggregate's later commits)
    again, to every queue: a queue that took it the first time drops the copy by its deduplication id within
    five minutes, and its consumer's tracking drops it after that.
    """

    def __init__(self, client: SQSClient, routes: Sequence[Route]) -> None:
        self._client = client
        self._routes = tuple(routes)

    @property
    def publishes(self) -> EventTypes:
        """What some route reacts to (None: every type): a commit of none of these types is sent nowhere."""
        return joined(route.reacts_to for route in self._routes)

    def __call__(self, messages: Sequence[Message]) -> set[str]:
        """Send one chunk to each queue it concerns; a refused entry (or a failed request) comes back as its
        record id."""
        refused: set[str] = set()
        for route in self._routes:
            chosen = [message for message in messages if concerns(route.reacts_to, message.event_types)]
            if chosen:
                refused |= self._send(route, chosen)
        return refused

    def _send(self, route: Route, messages: Sequence[Message]) -> set[str]:
        by_entry = {str(index): message for index, message in enumerate(messages)}
        try:
            answer = self._client.send_message_batch(
                QueueUrl=route.queue_url,
                Entries=[
                    {
                        "Id": entry,
                        "MessageBody": message.body,
                        "MessageGroupId": message.group,
                        "MessageDeduplicationId": message.deduplication_id,
                    }
                    for entry, message in by_entry.items()
                ],
            )
        except Exception:  # throttled or unreachable after botocore's retries: the stream will deliver them again
            logger.exception("sending %d commits to the %s queue failed", len(messages), route.consumer)
            return {message.record_id for message in messages}
        refused = answer.get("Failed", [])
        for failure in refused:
            logger.error(
                "the %s queue refused a commit: %s %s", route.consumer, failure.get("Code"), failure.get("Message")
            )
        return {by_entry[failure["Id"]].record_id for failure in refused}


def message_id(record: dict[str, Any]) -> str:
    """What a partial batch response names for an SQS record."""
    return str(record["messageId"])


def decode_message(record: dict[str, Any], load: Loader | None) -> list[Event]:
    """The commit an SQS record of the fan-out carries: decoded by the stream's parser, or loaded by pointer."""
    transported = json.loads(record["body"])
    image = transported.get("dynamodb", {}).get("NewImage", {})
    if EVENTS in image or FIRST not in image:
        return decode_record(transported)
    if load is None:
        raise LookupError("a commit sent by pointer needs the event store, and this consumer has none")
    aggregate_type, aggregate_id = parse_stream_key(image["pk"]["S"])
    return load(aggregate_type, aggregate_id, int(image[FIRST]["N"]), int(image[VERSION]["N"]))


def preceding_types(record: dict[str, Any]) -> dict[int, str]:
    """The stored types of the versions right before the commit an SQS record of the fan-out carries, by version."""
    image = json.loads(record["body"]).get("dynamodb", {}).get("NewImage", {})
    types = [str(value["S"]) for value in image.get(PRECEDING, {}).get("L", [])]
    first = int(image[FIRST]["N"]) if types else 0
    return {first - len(types) + index: kind for index, kind in enumerate(types)}


def with_later_messages_of_their_groups(records: Sequence[dict[str, Any]], failed: Sequence[str]) -> list[str]:
    """The failed messages and every later message of the same group in the batch, in batch order.

    A FIFO queue redelivers a group's messages in order only if none after a failure was deleted: an
    undecodable message fails its group as a failed aggregate does.
    """
    failing = set(failed)
    groups: set[str] = set()
    result: list[str] = []
    for record in records:
        group = record.get("attributes", {}).get("MessageGroupId")
        identifier = message_id(record)
        if identifier in failing or (group is not None and group in groups):
            result.append(identifier)
            if group is not None:
                groups.add(group)
    return result
