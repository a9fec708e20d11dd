"""The guest-list pipeline run end to end on moto, measured: capacity units, handler seconds, fan-out messages.

Each guest is invited and accepts, and the saga answers (confirm or deny): three commands. The commits go through
the projectors in stream batches, and through the dispatcher to each queued consumer's SQS FIFO queue (only the
commits it reacts to, as the stack's environment tells the dispatcher, horizon/local/fanout.py), read in batches
as Lambda would.
Every handler's work is timed in-process, moto's side of each call included.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    pass

T = TypeVar("T")


@dataclass
class Measured:
    """What one run of the pipeline used."""

    commands: int
    commits: int = 0
    units: dict[str, dict[str, float]] = field(default_factory=dict)
    """Write and read units by phase."""
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Handler seconds by function (infra/functions.py's names)."""
    invocations: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Handler invocations by function, at the batch sizes of the stack's mappings."""
    message_bytes: list[int] = field(default_factory=list)
    """The size of each message the dispatcher sent, once per queue (the commits it skipped are not here)."""
    sends: list[int] = field(default_factory=list)
    """The payload bytes of each SendMessageBatch request the dispatcher made: SQS bills one request per 64 KB."""
    delivered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Messages each queued consumer's queue received."""
    kms: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """KMS requests (GenerateDataKey, Decrypt) by phase."""


def run(guests: int, *, filtered: bool = True) -> Measured:
    """Invite `guests` guests who all accept, and carry every commit through the pipeline.

    `filtered=False` routes every commit to each queue, as if no consumer declared its types, for comparison.
    """
    import boto3

    from bench.capacity import CapacityMeter
    from bench.principal import as_bench
    from domain.invitation import AcceptInvite, CreateInvite
    from functions import subscriptions
    from horizon.dynamodb.fanout import QueuePublisher, publish_stream_batch
    from horizon.dynamodb.routes import FANOUT_QUEUES, routes_of
    from horizon.local.fanout import LocalFanout
    from infra.streams import STREAM_BATCH_SIZE
    from tests.moto_container import another_lambda, moto_container

    measured = Measured(commands=3 * guests)
    with moto_container() as (container, _):
        raw = boto3.client("dynamodb")

        def sizer(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
            item = raw.get_item(TableName=table, Key=key).get("Item")
            return None if item is None else dict(item)

        meter = CapacityMeter(container.dynamodb, sizer)
        kms_calls = [0]

        def count_kms(**_: Any) -> None:
            kms_calls[0] += 1

        container.kms.meta.events.register("after-call.kms", count_kms)
        # Each function in its own container, as on Lambda: none shares another's cached keys or aggregates.
        # A guest answers minutes after the invitation, past the 60 s a container keeps a key and the aggregate
        # decrypted with it: the acceptances meet a command container that holds neither.
        projecting, reacting, answering = (another_lambda(container) for _ in range(3))

        @contextmanager
        def phase(name: str, function: str) -> Iterator[None]:
            before, started, kms_before = meter.units.copy(), time.perf_counter(), kms_calls[0]
            yield
            measured.seconds[function] += time.perf_counter() - started
            measured.kms[name] += kms_calls[0] - kms_before
            units = measured.units.setdefault(name, dict.fromkeys(before, 0.0))
            for unit in before:
                units[unit] += meter.units[unit] - before[unit]

        filters = {
            name: subscriptions.reacts_to(name, container.settings.guest_limit) if filtered else None
            for name in subscriptions.QUEUED
        }
        sqs = boto3.client("sqs")
        fanout = LocalFanout(sqs)
        fanout.create(filters)
        # The dispatcher as the stack configures it: each queue and what it is sent, from its environment.

        def count_sends(params: dict[str, Any], **_: Any) -> None:
            """Each SendMessageBatch, by its payload: the commits the dispatcher skips cost nothing."""
            bodies = [len(entry["MessageBody"].encode()) for entry in params["Entries"]]
            measured.message_bytes.extend(bodies)
            measured.sends.append(sum(bodies))

        sqs.meta.events.register("provide-client-params.sqs.SendMessageBatch", count_sends)
        publisher = QueuePublisher(sqs, routes_of(fanout.environment(filters)[FANOUT_QUEUES]))
        publishes = publisher.publishes

        stream = _Stream(raw, container.settings.events_table)
        saga_batch = [runtime.process_batch for runtime in reacting.sagas]
        saga_phase = "saga DynamoDB (incl. the command it sends)"

        def carry_new_commits() -> None:
            """The dispatcher publishes what the stream holds since last time; each queued consumer reads it."""
            for batch in _chunks(stream.new_records(), STREAM_BATCH_SIZE):
                measured.invocations["Fanout"] += 1
                with phase("fan-out", "Fanout"):
                    publish_stream_batch({"Records": batch}, publisher, publishes)
            for name in subscriptions.QUEUED:
                for records in _queue_batches(sqs, fanout.queue_url(name)):
                    measured.delivered[name] += len(records)
                    measured.invocations[name] += 1
                    with phase(saga_phase, name):
                        reacting.consume({"Records": records}, None, saga_batch)

        invites = [uuid.uuid4() for _ in range(guests)]
        with phase("command DynamoDB (create, accept)", "Command"):
            # Every invitation first, then every acceptance: a guest answers later, so a stream batch rarely holds
            # two commits of one invitation (which would let a consumer write its position once for both).
            for invite in invites:
                container.command_handler.handle(CreateInvite(id=invite, name="Guest"), as_bench())
            for invite in invites:
                answering.command_handler.handle(AcceptInvite(id=invite), as_bench())
        measured.invocations["Command"] += 2 * guests
        carry_new_commits()
        carry_new_commits()  # the saga's answers
        projectors = [runtime.process_batch for runtime in projecting.projectors]
        for batch in _chunks(stream.records, STREAM_BATCH_SIZE):
            measured.invocations["Projector"] += 1
            with phase("projector DynamoDB", "Projector"):
                projecting.consume({"Records": batch}, None, projectors)
        measured.commits = len(stream.records)
    return measured


class _Stream:
    """The events table's stream as its mappings see it: tip records only, in order, each read once."""

    def __init__(self, client: Any, table: str) -> None:
        import boto3

        self._streams = boto3.client("dynamodbstreams")
        self._arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.records: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def new_records(self) -> list[dict[str, Any]]:
        """The commit records not returned before."""
        from horizon.dynamodb.streams import is_commit_record
        from horizon.local.poller import as_lambda_record

        fresh: list[dict[str, Any]] = []
        for shard in self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]:
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )
            position: str | None = iterator["ShardIterator"]
            while position:
                page = self._streams.get_records(ShardIterator=position, Limit=1000)
                for record in page["Records"]:
                    number = record["dynamodb"]["SequenceNumber"]
                    lambda_record = as_lambda_record(dict(record), self._arn)
                    if number not in self._seen and is_commit_record(lambda_record):
                        self._seen.add(number)
                        fresh.append(lambda_record)
                position = page.get("NextShardIterator") if page["Records"] else None
        self.records += fresh
        return fresh


def _queue_batches(sqs: Any, url: str) -> Iterator[list[dict[str, Any]]]:
    """Batches of the queue as its mapping hands them over, each deleted once handed over."""
    from horizon.local.queues import BATCH_SIZE, as_lambda_record

    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=BATCH_SIZE, MessageSystemAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return
        yield [as_lambda_record(message, arn) for message in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
