"""DynamoDB Streams (or a fan-out queue) → commits: decode tip records, run consumers with partial batch responses.

Only tip records carry commits (see docs/event-store.md); event items and anything else are acknowledged
and skipped. A consumer takes the whole batch at once (it coalesces writes) and reports the aggregates that
failed; every record of those is reported failed, so Lambda redelivers them in order and a later commit of an
aggregate never overtakes a failed one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from horizon import telemetry
from horizon.dynamodb.layout import TIP_SORT_KEY, read_tip
from horizon.events import Event
from horizon.stream_batches import Stream, Vouched

logger = logging.getLogger(__name__)

BatchConsumer = Callable[[Sequence[Sequence[Event]], Vouched], Mapping[Stream, Exception]]
"""Takes a batch's commits in stream order, and the types of versions the batch vouches for without carrying
them; returns the aggregates that failed (their commits took no effect)."""


def shard_ids(streams: Any, stream_arn: str) -> list[str]:
    """Every shard of a stream, open or closed, as DescribeStream lists them, page by page."""
    shards: list[str] = []
    request: dict[str, Any] = {"StreamArn": stream_arn}
    while True:
        description = streams.describe_stream(**request)["StreamDescription"]
        shards.extend(shard["ShardId"] for shard in description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        request["ExclusiveStartShardId"] = last


def is_commit_record(record: dict[str, Any]) -> bool:
    """The event source mapping's filter: only inserts and updates of tip items carry commits."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    return record.get("eventName") in ("INSERT", "MODIFY") and keys.get("sk", {}).get("N") == TIP_SORT_KEY


def decode_record(record: dict[str, Any]) -> list[Event]:
    """The commit a stream record carries, or [] when the record is not a commit (event item, removal)."""
    return read_record(record)[0]


def read_record(record: dict[str, Any]) -> tuple[list[Event], dict[int, str]]:
    """The commit a stream record carries and the stored types its tip held before it (`read_tip`); ([], {})
    when the record is not a commit (event item, removal)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return [], {}
    return read_tip(record.get("dynamodb", {}).get("NewImage") or {})


Opener = Callable[[Sequence[Sequence[Event]]], Sequence[Sequence[Event]]]
"""Opens the sealed personal fields of a batch's commits (horizon.privacy.sealing.Sealer.open_commits)."""


Loader = Callable[[str, UUID, int, int], list[Event]]
"""Reads versions first..last of one aggregate from the event store, as stored (sealed): a commit sent by pointer."""


def process_stream_batch(
    event: dict[str, Any],
    context: Any,
    consumers: Sequence[BatchConsumer],
    *,
    counted_as: str | None = None,
    opener: Opener | None = None,
    load: Loader | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Feed every commit in a Lambda batch to each consumer; return the partial batch response.

    The batch comes from the events table's stream or from a consumer's queue of the fan-out (its records'
    `eventSource` says which, horizon/dynamodb/fanout.py); both carry tip images, decoded by `decode_record`.
    A record fails when its aggregate failed in any consumer, so it and the aggregate's later records come back.
    The events of the commits that succeeded are counted as `counted_as`, and their lag is reported.
    `opener`, when given, opens the batch's personal fields once (one key read) before any consumer sees them.
    `load` reads a commit the fan-out sent by pointer (too large for a message).
    """
    from horizon.dynamodb import fanout

    records = event.get("Records", [])
    queued = bool(records) and records[0].get("eventSource") == fanout.QUEUE_SOURCE
    decoded: list[tuple[str, list[Event]]] = []
    broken: list[str] = []
    vouched: dict[Stream, dict[int, str]] = {}
    for record in records:
        identifier = fanout.message_id(record) if queued else record["dynamodb"]["SequenceNumber"]
        try:
            # With what the tip still held before the commit: its consumers need not read those versions back.
            if queued:
                commit, earlier = fanout.decode_message(record, load), fanout.preceding_types(record)
            else:
                commit, earlier = read_record(record)
            if commit:
                vouched.setdefault(commit[0].stream, {}).update(earlier)
            decoded.append((identifier, commit))
        except Exception:  # a record we cannot read is reported, not allowed to sink the batch
            logger.exception("undecodable record %s", identifier)
            broken.append(identifier)
    commits: Sequence[Sequence[Event]] = [commit for _, commit in decoded if commit]
    if opener is not None and commits:
        commits = opener(commits)
    failed: set[Stream] = set()
    for consume in consumers:
        for stream, error in consume(commits, vouched).items():
            logger.error("%s %s failed (%s); its records will be redelivered", stream[0], stream[1], error)
            failed.add(stream)
    broken += [identifier for identifier, commit in decoded if commit and commit[0].stream in failed]
    if queued:
        broken = fanout.with_later_messages_of_their_groups(records, broken)
    _report([commit for commit in commits if commit[0].stream not in failed], len(failed), counted_as)
    return {"batchItemFailures": [{"itemIdentifier": identifier} for identifier in broken]}


def _report(done: Sequence[Sequence[Event]], failures: int, counted_as: str | None) -> None:
    report = telemetry.current()
    if counted_as and done:
        report.count(counted_as, sum(len(commit) for commit in done))
    if failures:
        report.count(telemetry.COMMITS_FAILED, failures)
    if done:
        # The oldest commit of the batch waited longest: the lag an operator alarms on.
        oldest = min(commit[-1].timestamp for commit in done)
        report.milliseconds(telemetry.CONSUMER_LAG, (datetime.now(UTC) - oldest).total_seconds() * 1000)


def per_commit(consume: Callable[[Sequence[Event]], None]) -> BatchConsumer:
    """A batch consumer from a one-commit function: after an aggregate fails, its later commits wait."""

    def run(commits: Sequence[Sequence[Event]], vouched: Vouched | None = None) -> dict[Stream, Exception]:
        failed: dict[Stream, Exception] = {}
        for commit in commits:
            stream = commit[0].stream
            if stream in failed:
                continue
            try:
                consume(commit)
            except Exception as error:  # reported per aggregate, like the runtimes' own batches
                failed[stream] = error
        return failed

    return run
