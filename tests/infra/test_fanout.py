"""The fan-out in the template: two stream readers whatever the consumers, a FIFO topic, a FIFO queue per consumer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from domain.invitation import InviteAccepted
from functions import subscriptions
from horizon.dynamodb.fanout import EVENT_TYPES, PUBLISHED_TYPES, filter_policy, published_types
from horizon.projection import joined
from horizon.retry import QUEUE_RECEIVES
from infra.app import build_app
from infra.stack import HorizonStack
from infra.streams import MAX_STREAM_READERS

from .conftest import SKIP_BUNDLING
from .test_stack import HANDLERS, function_id, logical_id, statements, stream_mappings


def queue_mappings(template: Template, function: str) -> list[Mapping[str, Any]]:
    mappings = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    return [m for m in mappings if m["Properties"]["FunctionName"]["Ref"] == function and "Queue" in json.dumps(m)]


def with_an_audit_consumer(reacts_to: frozenset[str] | None) -> tuple[Template, HorizonStack]:
    """The stack with one more consumer wired as a new one would be: one line, `add_queued`."""
    _, stack = build_app(SKIP_BUNDLING, nag=False)
    audit = lambda_.Function(
        stack,
        "Audit",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        timeout=Duration.seconds(30),
    )
    stack.consumers.add_queued("Audit", audit, reacts_to)
    return Template.from_stack(stack), stack


@pytest.fixture(scope="module")
def with_a_third_consumer() -> tuple[Template, HorizonStack]:
    """A third consumer that declares no event types: it reacts to every commit."""
    return with_an_audit_consumer(None)


def test_a_third_consumer_adds_a_queue_and_no_stream_reader(
    template: Template, stack: HorizonStack, with_a_third_consumer: tuple[Template, HorizonStack]
) -> None:
    bigger, bigger_stack = with_a_third_consumer
    assert len(stream_mappings(template, stack)) == MAX_STREAM_READERS
    assert len(stream_mappings(bigger, bigger_stack)) == MAX_STREAM_READERS
    queues = len(template.find_resources("AWS::SQS::Queue"))
    assert len(bigger.find_resources("AWS::SQS::Queue")) == queues + 2  # its queue and its dead-letter queue
    assert (
        len(bigger.find_resources("AWS::SNS::Subscription"))
        == len(template.find_resources("AWS::SNS::Subscription")) + 1
    )


def test_more_stream_readers_than_the_stream_serves_are_refused() -> None:
    _, stack = build_app(SKIP_BUNDLING, nag=False)
    readers = {name: stack.functions.by_name[name] for name in ("Projector", "Saga", "Fanout")}
    with pytest.raises(ValueError, match="more than the stream serves"):
        type(stack.consumers)(
            stack, "TooMany", table=stack.tables.events, readers=readers, fanout=stack.functions.fanout
        )


def test_the_topic_is_fifo_with_per_aggregate_throughput_encrypted_and_tls_only(template: Template) -> None:
    (topic,) = [
        t["Properties"] for t in template.find_resources("AWS::SNS::Topic").values() if t["Properties"].get("FifoTopic")
    ]
    assert topic["FifoThroughputScope"] == "MessageGroup"
    assert topic.get("ContentBasedDeduplication", False) is False  # the dispatcher names each commit's id
    assert "alias/aws/sns" in json.dumps(topic["KmsMasterKeyId"])
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
            }
        },
    )


def test_each_queued_consumer_reads_its_fifo_queue_in_batches_of_10_with_partial_responses(
    template: Template, stack: HorizonStack
) -> None:
    for name in subscriptions.QUEUED:
        queue = template.find_resources("AWS::SQS::Queue")[logical_id(stack, stack.consumers.queues[name])]
        dead = logical_id(stack, stack.consumers.dead_letters[name])
        properties = queue["Properties"]
        assert properties["FifoQueue"] is True
        assert properties["DeduplicationScope"] == "messageGroup"
        assert properties["FifoThroughputLimit"] == "perMessageGroupId"
        assert properties["SqsManagedSseEnabled"] is True
        assert properties["VisibilityTimeout"] == 6 * 60  # six times the function's timeout
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dead, "Arn"]},
            "maxReceiveCount": QUEUE_RECEIVES,
        }
        (mapping,) = queue_mappings(template, function_id(template, HANDLERS[name.lower()]))
        assert mapping["Properties"]["BatchSize"] == 10
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        template.has_resource_properties(
            "AWS::SNS::Subscription",
            {
                "Protocol": "sqs",
                "RawMessageDelivery": True,
                "Endpoint": {"Fn::GetAtt": [logical_id(stack, stack.consumers.queues[name]), "Arn"]},
            },
        )


def test_the_fan_out_may_publish_to_its_topic_and_touch_no_table(template: Template, stack: HorizonStack) -> None:
    topic = logical_id(stack, stack.consumers.topic)
    found = statements(template, HANDLERS["fanout"])
    publish = [s for s in found if s["Action"] == "sns:Publish"]
    assert [s["Resource"] for s in publish] == [{"Ref": topic}]
    for table in (stack.tables.events, stack.tables.read):
        assert not [
            s
            for s in found
            if logical_id(stack, table) in json.dumps(s["Resource"]) and "Stream" not in json.dumps(s["Resource"])
        ]


def test_the_saga_consumes_only_its_own_queue_and_reads_no_stream(template: Template, stack: HorizonStack) -> None:
    own = logical_id(stack, stack.consumers.queues["Saga"])
    on_queues = [s for s in statements(template, HANDLERS["saga"]) if str(s["Action"]).count("sqs:")]
    assert on_queues
    for statement in on_queues:
        assert statement["Resource"] == {"Fn::GetAtt": [own, "Arn"]}
    assert "StreamArn" not in json.dumps(statements(template, HANDLERS["saga"]))


def test_each_queued_consumer_has_a_dead_letter_output_the_cli_reads(template: Template) -> None:
    outputs = template.find_outputs("*")
    for name in subscriptions.QUEUED:
        assert f"{name}DeadLetterQueueUrl" in outputs


def subscription_of(template: Template, stack: HorizonStack, name: str) -> Mapping[str, Any]:
    queue = logical_id(stack, stack.consumers.queues[name])
    (found,) = [
        dict(s["Properties"])
        for s in template.find_resources("AWS::SNS::Subscription").values()
        if s["Properties"]["Endpoint"] == {"Fn::GetAtt": [queue, "Arn"]}
    ]
    return found


def test_each_queued_consumers_subscription_filters_on_the_event_types_its_consumers_declare(
    template: Template, stack: HorizonStack
) -> None:
    for name in subscriptions.QUEUED:
        declared = subscriptions.reacts_to(name, guest_limit=2)
        assert declared is not None  # the guest list's saga declares its types
        subscription = subscription_of(template, stack, name)
        assert subscription["FilterPolicy"] == filter_policy(declared)
        assert subscription.get("FilterPolicyScope", "MessageAttributes") == "MessageAttributes"
    assert subscription_of(template, stack, "Saga")["FilterPolicy"] == {EVENT_TYPES: [InviteAccepted.event_type]}


def test_a_consumer_that_declares_no_event_types_gets_every_commit(
    with_a_third_consumer: tuple[Template, HorizonStack],
) -> None:
    bigger, bigger_stack = with_a_third_consumer
    assert "FilterPolicy" not in subscription_of(bigger, bigger_stack, "Audit")


def dispatcher_environment_of(template: Template) -> Mapping[str, Any]:
    function = template.find_resources("AWS::Lambda::Function")[function_id(template, HANDLERS["fanout"])]
    return dict(function["Properties"]["Environment"]["Variables"])


def test_the_dispatcher_publishes_what_the_queued_consumers_subscriptions_let_through(
    template: Template, stack: HorizonStack
) -> None:
    declared = joined(subscriptions.reacts_to(name, guest_limit=2) for name in subscriptions.QUEUED)
    published = dispatcher_environment_of(template)[PUBLISHED_TYPES]
    assert published_types(published) == declared == frozenset({InviteAccepted.event_type})
    filtered = [subscription_of(template, stack, name)["FilterPolicy"][EVENT_TYPES] for name in subscriptions.QUEUED]
    assert published_types(published) == frozenset(kind for kinds in filtered for kind in kinds)
    others = [
        f["Properties"]["Environment"]["Variables"]
        for logical, f in template.find_resources("AWS::Lambda::Function").items()
        if logical != function_id(template, HANDLERS["fanout"])
    ]
    assert not [env for env in others if PUBLISHED_TYPES in env]


def test_a_consumer_that_declares_no_event_types_makes_the_dispatcher_publish_every_commit(
    with_a_third_consumer: tuple[Template, HorizonStack],
) -> None:
    bigger, _ = with_a_third_consumer
    assert PUBLISHED_TYPES not in dispatcher_environment_of(bigger)


def test_a_consumer_declaring_new_types_adds_them_to_what_the_dispatcher_publishes() -> None:
    bigger, _ = with_an_audit_consumer(frozenset({"InviteCreated"}))
    published = published_types(dispatcher_environment_of(bigger)[PUBLISHED_TYPES])
    assert published == frozenset({InviteAccepted.event_type, "InviteCreated"})
