"""List-price cost per million guest-list commands, from capacity units measured on the whole pipeline.

Each guest is invited and accepts over HTTP, and the saga answers (confirm or deny): three commands. Every
commit goes through both projectors in stream batches of up to 100 records, and through the fan-out (one SNS FIFO
message per commit, its size measured from the stream) to each queued consumer's SQS FIFO queue, read in batches
of 10 (docs/deploy.md, "Fan-out").
"""

from __future__ import annotations

import uuid
from typing import Any

HTTP_PER_MILLION = 1.00
LAMBDA_REQUEST_PER_MILLION = 0.20
SNS_FIFO_PUBLISH_PER_MILLION = 0.30
"""Per published message of up to 64 KB; a PublishBatch entry counts as one."""
SNS_FIFO_PUBLISH_PER_GB = 0.017
SNS_FIFO_TO_SQS_PER_MILLION = 0.01
SNS_FIFO_TO_SQS_PER_GB = 0.001
SQS_FIFO_PER_MILLION = 0.50
"""Per request of up to 64 KB; counted here for the send (SNS's delivery), and per batch for receive and delete."""
QUEUE_BATCH = 10


def run(guests: int) -> list[tuple[str, float]]:
    """Rows of (component, dollars per million commands)."""
    import boto3

    from bench.capacity import CapacityMeter
    from bench.principal import as_bench
    from domain.invitation import AcceptInvite, CreateInvite
    from horizon.dynamodb.eventstore import DynamoDBEventStore
    from tests.moto_container import moto_container

    with moto_container() as (container, _):
        raw = boto3.client("dynamodb")

        def sizer(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
            item = raw.get_item(TableName=table, Key=key).get("Item")
            return None if item is None else dict(item)

        meter = CapacityMeter(container.dynamodb, sizer)
        phases: dict[str, dict[str, float]] = {}

        def phase(name: str, before: dict[str, float]) -> None:
            phases[name] = {unit: meter.units[unit] - before[unit] for unit in before}

        before = meter.units.copy()
        commits = []
        invites = []
        for _ in range(guests):
            invite = uuid.uuid4()
            invites.append(invite)
            commits.append(container.command_handler.handle(CreateInvite(id=invite, name="Guest"), as_bench()).events)
            commits.append(container.command_handler.handle(AcceptInvite(id=invite), as_bench()).events)
        phase("command DynamoDB (create, accept)", before)
        before = meter.units.copy()
        for start in range(0, len(commits), 100):
            for saga in container.sagas:
                saga.process_batch(commits[start : start + 100])
        phase("saga DynamoDB (incl. the command it sends)", before)
        uncounted = DynamoDBEventStore(raw, container.settings.events_table)
        answers = [tuple(uncounted.load("Invitation", invite, 2)) for invite in invites]
        everything = commits + [answer for answer in answers if answer]
        before = meter.units.copy()
        for start in range(0, len(everything), 100):
            for projector in container.projectors:
                projector.process_batch(everything[start : start + 100])
        for start in range(len(commits), len(everything), 100):
            for saga in container.sagas:
                saga.process_batch(everything[start : start + 100])
        phase("projector DynamoDB (and the saga skipping answers)", before)
        message_bytes = _fanout_message_bytes(raw, container.settings.events_table)

    from functions.subscriptions import QUEUED

    commands = 3 * guests
    per_command = len(everything) / commands
    queued = len(QUEUED)
    rows = [("HTTP API (2 of 3 commands)", HTTP_PER_MILLION * 2 / 3)]
    batches = 0.05 + queued * per_command / QUEUE_BATCH
    rows.append(
        (
            "Lambda requests (commands, stream batches, queue batches of 10)",
            LAMBDA_REQUEST_PER_MILLION * (2 / 3 + batches),
        )
    )
    gigabytes = per_command * message_bytes / 1e9
    publish = per_command * SNS_FIFO_PUBLISH_PER_MILLION + gigabytes * 1e6 * SNS_FIFO_PUBLISH_PER_GB
    rows.append((f"fan-out: SNS FIFO publish, {message_bytes:.0f} B per commit", publish))
    per_queue = per_command * (SNS_FIFO_TO_SQS_PER_MILLION + SQS_FIFO_PER_MILLION * (1 + 2 / QUEUE_BATCH))
    per_queue += gigabytes * 1e6 * SNS_FIFO_TO_SQS_PER_GB
    rows.append((f"fan-out: delivery and SQS FIFO requests, {queued} queued consumer(s)", queued * per_queue))
    for name, units in phases.items():
        dollars = units["WRU"] * 0.625 / 1e6 + units["RRU"] * 0.125 / 1e6
        rows.append(
            (f"{name}: {units['WRU'] / commands:.2f} WRU + {units['RRU'] / commands:.2f} RRU", dollars / commands * 1e6)
        )
    return rows


def _fanout_message_bytes(client: Any, table: str) -> float:
    """The mean size of the fan-out's message for each commit in the events table's stream."""
    import boto3

    from horizon.dynamodb.fanout import message_of
    from horizon.local.poller import as_lambda_record

    streams = boto3.client("dynamodbstreams")
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    sizes: list[int] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        position: str | None = iterator["ShardIterator"]
        while position:
            page = streams.get_records(ShardIterator=position, Limit=1000)
            for record in page["Records"]:
                message = message_of(as_lambda_record(dict(record), arn))
                if message is not None:
                    sizes.append(len(message.body.encode()))
            position = page.get("NextShardIterator") if page["Records"] else None
    return sum(sizes) / max(1, len(sizes))
