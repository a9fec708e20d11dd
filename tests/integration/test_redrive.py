"""Dead letters and re-drive on moto: poison → dead letter → fix → `horizon redrive` → healed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from click.testing import CliRunner, Result

from domain import build_registry
from horizon.cli.app import cli
from horizon.consumers import ProjectorRuntime
from horizon.dynamodb import DynamoDBEventStore, DynamoDBReadStore
from horizon.dynamodb.streams import decode_record
from horizon.redrive import read_letter
from tests import poison_domain
from tests.catch_up_support import COUNTER_KEY, long_history
from tests.integration.conftest import EVENTS_TABLE, READ_TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def horizon(queue: str, *args: str) -> Result:
    options = ["--events-table", EVENTS_TABLE, "--read-table", READ_TABLE]
    options += ["--registry", "tests.poison_domain:build_registry"]
    return CliRunner().invoke(cli, [*options, *args, "--queue", queue])


def failure_message(consumer: str, arn: str, shard: str, sequence: str) -> str:
    """What Lambda's on-failure destination receives for one DynamoDB Streams record."""
    return json.dumps(
        {
            "requestContext": {
                "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{consumer}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 3,
            },
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "version": "1.0",
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "batchSize": 1,
                "streamArn": arn,
            },
        }
    )


def consume_stream(dynamodb: DynamoDBClient, runtime: ProjectorRuntime, queue: str) -> int:
    """Deliver every stream record once, dead-lettering the failures as the event source mapping would."""
    streams, sqs = boto3.client("dynamodbstreams"), boto3.client("sqs")
    arn = dynamodb.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"]
    sent = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            commit = decode_record(dict[str, Any](record))
            if commit and runtime.process_batch([commit]):
                sequence = record["dynamodb"]["SequenceNumber"]
                sqs.send_message(
                    QueueUrl=queue, MessageBody=failure_message(runtime.name, arn, shard["ShardId"], sequence)
                )
                sent += 1
    return sent


def test_a_poison_commit_parks_only_its_aggregate_and_redrive_heals_it_after_the_fix(
    dynamodb: DynamoDBClient, dynamodb_event_store: DynamoDBEventStore, dynamodb_read_store: DynamoDBReadStore
) -> None:
    queue = boto3.client("sqs").create_queue(QueueName="failures")["QueueUrl"]
    poisoned = long_history(dynamodb_event_store, 4, per_commit=2)[0].aggregate_id
    long_history(dynamodb_event_store, 3, per_commit=3)
    poison_domain.POISON.add(poisoned)
    try:
        # GIVEN the stream delivered everything: the poisoned aggregate's two commits were dead-lettered
        runtime = ProjectorRuntime(
            poison_domain.FlakyCounter(), build_registry(), dynamodb_read_store, dynamodb_event_store
        )
        assert consume_stream(dynamodb, runtime, queue) == 2
        tally = dynamodb_read_store.get("FlakyCounter", COUNTER_KEY)
        assert tally is not None
        assert tally.body == {"events": 3}  # every other aggregate kept flowing
        # WHEN an operator lists them
        listed = horizon(queue, "dead-letters")
        assert listed.exit_code == 0, listed.output
        assert listed.output.splitlines() == [
            f"FlakyCounter: Invitation {poisoned} v1-2 · RetryAttemptsExhausted Unhandled",
            f"FlakyCounter: Invitation {poisoned} v3-4 · RetryAttemptsExhausted Unhandled",
        ]
        # THEN a re-drive before the fix keeps both letters and says why
        early = horizon(queue, "redrive")
        assert (early.exit_code, early.stdout) == (5, "redrive: 0 healed, 2 kept\n")
        assert f"failed Invitation#{poisoned}: ValueError: poisoned" in early.stderr
    finally:
        poison_domain.POISON.discard(poisoned)
    # AND after the fix, a re-drive heals the aggregate and empties the queue
    healed = horizon(queue, "redrive")
    assert (healed.exit_code, healed.stdout) == (0, "redrive: 2 healed, 0 kept\n")
    tally = dynamodb_read_store.get("FlakyCounter", COUNTER_KEY)
    assert tally is not None
    assert tally.body == {"events": 7}
    assert horizon(queue, "dead-letters").output == ""


def test_a_letter_whose_records_left_the_stream_redrives_every_aggregate() -> None:
    letter = read_letter("r", {"requestContext": {"functionArn": "arn:aws:lambda:x:1:function:Horizon-Saga"}}, None)
    assert (letter.function, letter.commits, letter.expired) == ("Horizon-Saga", (), True)
