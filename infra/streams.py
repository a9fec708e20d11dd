"""Commits to consumers: two stream readers (projector, fan-out), and one FIFO queue per further consumer, which
the fan-out sends the commits its consumer reacts to."""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from aws_cdk import Acknowledgment, Aspects, Duration, IAspect, Names, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from functions.subscriptions import FANOUT
from horizon.dynamodb.routes import Route, dispatcher_environment
from horizon.projection import EventTypes
from horizon.retry import QUEUE_RECEIVES, STREAM_RETRIES
from infra import permissions
from infra.functions import statements
from infra.permissions import Resource

TIP_COMMITS = lambda_.FilterCriteria.filter(
    {
        "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
        # Stream images carry numbers as strings: {"sk": {"N": "0"}}. A string match is what works here.
        "dynamodb": {"Keys": {"sk": {"N": lambda_.FilterRule.is_equal("0")}}},
    }
)
"""Only tip records (sk = 0) carry commits. Event items and removals never invoke a function (and cost nothing).
horizon/dynamodb/streams.py skips anything else as well, so the filter is a saving, not a correctness need."""

STREAM_BATCH_SIZE = 100
"""Records a stream mapping hands a function at once, at most."""
RETRY_ATTEMPTS = STREAM_RETRIES
MAX_RECORD_AGE = Duration.hours(24)
PARALLELIZATION_FACTOR = 2
MAX_STREAM_READERS = 2
"""DynamoDB Streams serves about two concurrent readers per shard; a third mapping is throttled."""

QUEUE_BATCH_SIZE = 10
"""The most an SQS FIFO event source mapping hands a function at once."""
VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT = 6
"""Lambda's advice for a queue's visibility timeout: six times the function's timeout."""
RETENTION = Duration.days(14)


@jsii.implements(IAspect)
class _Routes:
    """Names every queued consumer's queue and declared types in the dispatcher's environment, and lets it send to
    those queues, when the stack is synthesized: after the last `add_queued`, however late it came (a test's
    extra consumer, say)."""

    def __init__(
        self, fanout: lambda_.Function, queues: Mapping[str, sqs.Queue], reacting: Mapping[str, EventTypes]
    ) -> None:
        self._fanout = fanout
        self._queues = queues
        self._reacting = reacting

    def visit(self, node: IConstruct) -> None:
        """Set the variable and the grant on the dispatcher; pass any other node."""
        if node is not self._fanout:
            return
        routes = [Route(name, queue.queue_url, self._reacting[name]) for name, queue in self._queues.items()]
        for name, value in dispatcher_environment(routes).items():
            self._fanout.add_environment(name, value)
        if self._queues:
            arns = {Resource.QUEUED_CONSUMERS: [queue.queue_arn for queue in self._queues.values()]}
            late = {grant for grant in permissions.CODE[FANOUT] if grant.resource in arns}
            for statement in statements(late, arns):
                self._fanout.add_to_role_policy(statement)


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
    consumer: lambda_.Function, table: dynamodb.ITable, failures: sqs.IQueue, target: lambda_.IFunction | None = None
) -> lambda_.EventSourceMapping:
    """One mapping and its settings (docs/deploy.md explains each), invoking `target` (the consumer's live alias
    with SnapStart on) or the consumer itself. It grants nothing either: reading the stream is in the consumer's
    entry of infra/permissions.py, like everything else its role may do."""
    stream = table.table_stream_arn
    assert stream is not None, "the events table is streamed (infra/tables.py)"
    # Under the function, with the id the CDK's DynamoEventSource gives its mapping, whatever it invokes: a
    # deployed mapping is kept, not replaced (a new one would start again from the stream's oldest record);
    # changing its FunctionName to the alias is an update in place.
    return lambda_.EventSourceMapping(
        consumer,
        f"DynamoDBEventSource:{Names.node_unique_id(table.node)}",
        target=target or consumer,
        event_source_arn=stream,
        # From the oldest record still in the stream: a new consumer catches up on the last 24 hours. Older
        # history is read from the table when a consumer meets a gap (horizon/consumers/tracked.py).
        starting_position=lambda_.StartingPosition.TRIM_HORIZON,
        batch_size=STREAM_BATCH_SIZE,
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
        # anyway), and consumers' conditional writes make concurrent invocations safe (horizon/consumers/tracked.py).
        parallelization_factor=PARALLELIZATION_FACTOR,
        on_failure=FailureQueue(failures),
    )


class CommitConsumers(Construct):
    """The stream's two readers, and a FIFO queue (with its dead-letter queue) per consumer the fan-out sends to.

    The stream readers share one failure queue, which receives a pointer (shard and sequence numbers, and the
    function) for each batch given up on, not the records; the commits themselves stay in the events table, and
    the consumer repairs the gap when the aggregate's next commit arrives. A queued consumer's dead-letter queue
    receives the messages themselves.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        readers: Mapping[str, lambda_.Function],
        fanout: lambda_.Function,
        live: Mapping[str, lambda_.IFunction] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if len(readers) > MAX_STREAM_READERS:
            raise ValueError(f"{len(readers)} stream readers, more than the stream serves ({MAX_STREAM_READERS})")
        if fanout not in readers.values():
            raise ValueError("the fan-out function must be one of the stream's readers")
        self.failures = _queue(self, "Failures", fifo=False)
        _acknowledge_dead_letter_queue(self.failures, "the stream mappings")
        self._live = live or {}
        """What each function's mappings invoke, by name (infra/functions.py `live`); the function when absent."""
        self.mappings = [
            commit_stream(reader, table, self.failures, self._live.get(name)) for name, reader in readers.items()
        ]
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letters: dict[str, sqs.Queue] = {}
        self.reacting: dict[str, EventTypes] = {}
        """What each queued consumer reacts to (None: every type): the dispatcher sends its queue only those."""
        # sqs:SendMessage on the queues is the fan-out's entry of infra/permissions.py, granted by `_Routes`.
        Aspects.of(fanout).add(_Routes(fanout, self.queues, self.reacting))

    def add_queued(self, name: str, consumer: lambda_.Function, reacts_to: EventTypes = None) -> sqs.Queue:
        """Feed `consumer` from its own FIFO queue of the fan-out; the stream gains no reader.

        `reacts_to` (the event types its consumers declare, None: all) is what the dispatcher sends this queue.
        """
        dead = _queue(self, f"{name}DeadLetters", fifo=True)
        _acknowledge_dead_letter_queue(dead, f"the {name} queue")
        timeout = consumer.timeout.to_seconds() if consumer.timeout else 3
        queue = _queue(
            self,
            f"{name}Queue",
            fifo=True,
            visibility_timeout=Duration.seconds(timeout * VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead, max_receive_count=QUEUE_RECEIVES),
        )
        self.reacting[name] = reacts_to
        # A failed message fails the later ones of its group (its aggregate), which then come again in order.
        # A mapping that grants nothing: consuming the queue is in the consumer's entry of infra/permissions.py.
        lambda_.EventSourceMapping(
            consumer,
            f"{name}Queue",
            target=self._live.get(name, consumer),
            event_source_arn=queue.queue_arn,
            batch_size=QUEUE_BATCH_SIZE,
            report_batch_item_failures=True,
        )
        self.queues[name] = queue
        self.dead_letters[name] = dead
        return queue


def _queue(scope: Construct, construct_id: str, *, fifo: bool, **settings: object) -> sqs.Queue:
    fifo_settings: dict[str, object] = {}
    if fifo:
        # High-throughput FIFO: deduplication and the throughput limit are per message group (aggregate).
        fifo_settings = {
            "fifo": True,
            "deduplication_scope": sqs.DeduplicationScope.MESSAGE_GROUP,
            "fifo_throughput_limit": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        }
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=RETENTION,
        **fifo_settings,  # type: ignore[arg-type]
        **settings,  # type: ignore[arg-type]
    )


def _acknowledge_dead_letter_queue(queue: sqs.Queue, of: str) -> None:
    Validations.of(queue).acknowledge(
        Acknowledgment(id="AwsSolutions-SQS3", reason=f"This queue is itself the dead-letter destination of {of}.")
    )
