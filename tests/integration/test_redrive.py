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
from horizon.dynamodb.fanout import message_of
from horizon.dynamodb.streams import decode_record
from horizon.local.deadletters import QueueDeadLetters
from horizon.local.fanout import LocalFanout, dead_letter_queues
from horizon.local.poller import as_lambda_record
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


def test_a_queued_consumers_dead_letters_name_their_commits_and_redrive_heals_them(
    dynamodb: DynamoDBClient, dynamodb_event_store: DynamoDBEventStore, dynamodb_read_store: DynamoDBReadStore
) -> None:
    sqs = boto3.client("sqs")
    _ = QueueDeadLetters(sqs).url  # the stream readers' failure queue, empty
    LocalFanout(sqs).create({"FlakyCounter": None})
    poisoned = long_history(dynamodb_event_store, 4, per_commit=2)[0].aggregate_id
    # GIVEN the consumer's queue gave up on both commits: they sit in its dead-letter queue, as messages
    dead = dead_letter_queues(sqs)["flakycounter"]
    streams = boto3.client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    for record in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]:
        message = message_of(as_lambda_record(dict(record), arn))
        if message is not None:
            sqs.send_message(
                QueueUrl=dead,
                MessageBody=message.body,
                MessageGroupId=message.group,
                MessageDeduplicationId=message.deduplication_id,
            )
    options = ["--events-table", EVENTS_TABLE, "--read-table", READ_TABLE]
    options += ["--registry", "tests.poison_domain:build_registry"]
    # WHEN an operator lists every dead letter of the (local) stack
    listed = CliRunner().invoke(cli, [*options, "dead-letters"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        f"flakycounter: Invitation {poisoned} v1-2 · MaxReceiveCountExceeded",
        f"flakycounter: Invitation {poisoned} v3-4 · MaxReceiveCountExceeded",
    ]
    # THEN a re-drive catches the consumer up from the events table and empties its dead-letter queue
    healed = CliRunner().invoke(cli, [*options, "redrive"])
    assert (healed.exit_code, healed.stdout) == (0, "redrive: 2 healed, 0 kept\n")
    tally = dynamodb_read_store.get("FlakyCounter", COUNTER_KEY)
    assert tally is not None
    assert tally.body == {"events": 4}
    assert CliRunner().invoke(cli, [*options, "dead-letters"]).output == ""
