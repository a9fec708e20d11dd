"""The event table's stream → projector and saga: event source mappings that deliver only commits."""

from __future__ import annotations

import jsii
from aws_cdk import Acknowledgment, Duration, Names, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from horizon.retry import STREAM_RETRIES

TIP_COMMITS = lambda_.FilterCriteria.filter(
    {
        "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
        # Stream images carry numbers as strings: {"sk": {"N": "0"}}. A string match is what works here.
        "dynamodb": {"Keys": {"sk": {"N": lambda_.FilterRule.is_equal("0")}}},
    }
)
"""Only tip records (sk = 0) carry commits. Event items and removals never invoke a function (and cost nothing).
horizon/dynamodb/streams.py skips anything else as well, so the filter is a saving, not a correctness need."""

RETRY_ATTEMPTS = STREAM_RETRIES
MAX_RECORD_AGE = Duration.hours(24)
PARALLELIZATION_FACTOR = 2


@jsii.implements(lambda_.IEventSourceDlq)
class FailureQueue:
    """The mapping's on-failure destination. Unlike the CDK's SqsDlq it grants nothing: the consumer's role gets
    sqs:SendMessage, and only that, from infra/permissions.py (STREAM_CONSUMER)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)


def commit_stream(
    consumer: lambda_.Function, table: dynamodb.ITable, failures: sqs.IQueue
) -> lambda_.EventSourceMapping:
    """One mapping and its settings (docs/deploy.md explains each). It grants nothing either: reading the stream
    is in the consumer's entry of infra/permissions.py, like everything else its role may do."""
    stream = table.table_stream_arn
    assert stream is not None, "the events table is streamed (infra/tables.py)"
    # The id the CDK's DynamoEventSource gives its mapping, so a deployed mapping is kept, not replaced.
    return consumer.add_event_source_mapping(
        f"DynamoDBEventSource:{Names.node_unique_id(table.node)}",
        event_source_arn=stream,
        # From the oldest record still in the stream: a new consumer catches up on the last 24 hours. Older
        # history is read from the table when a consumer meets a gap (horizon/consumers.py).
        starting_position=lambda_.StartingPosition.TRIM_HORIZON,
        batch_size=100,
        filters=[TIP_COMMITS],
        # horizon/dynamodb/streams.py answers with the failed records, and with every later record of the
        # same aggregate, so Lambda retries from the first failure and keeps each aggregate's commits in order.
        report_batch_item_failures=True,
        # Partial batch responses already isolate the failed record; splitting the batch would add nothing.
        bisect_batch_on_error=False,
        # A poison commit holds up the records behind it: give up after bounded retries, noted in the DLQ.
        retry_attempts=RETRY_ATTEMPTS,
        # Stream records live 24 hours anyway; the age limit only makes the give-up explicit (DLQ entry).
        max_record_age=MAX_RECORD_AGE,
        # Safe above 1: Lambda keeps the records of one item (partition + sort key) in order across the
        # concurrent batches of a shard, and every commit of an aggregate is a record of one item, its tip.
        # Commits of different aggregates were never ordered relative to each other (shards run concurrently
        # anyway), and consumers' conditional writes make concurrent invocations safe (horizon/consumers.py).
        parallelization_factor=PARALLELIZATION_FACTOR,
        on_failure=FailureQueue(failures),
    )


class CommitConsumers(Construct):
    """Stream event source mappings for the projector and the saga, sharing one failure queue.

    The queue receives a pointer (shard and sequence numbers, and the function) for each batch given up on,
    not the records; the commits themselves stay in the events table, and the consumer repairs the gap when
    the aggregate's next commit arrives.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        projector: lambda_.Function,
        saga: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self.failures = sqs.Queue(
            self,
            "Failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        Validations.of(self.failures).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3", reason="This queue is itself the failure destination of the stream mappings."
            )
        )
        self.mappings = [commit_stream(consumer, table, self.failures) for consumer in (projector, saga)]
