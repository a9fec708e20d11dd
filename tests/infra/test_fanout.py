"""The fan-out in the template: two stream readers whatever the consumers, and a FIFO queue per further consumer
that the dispatcher sends to directly."""

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
from horizon.dynamodb.routes import FANOUT_QUEUES, Route, routes_of
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
    assert [route.consumer for route in routes_in(bigger)] == [*subscriptions.QUEUED, "Audit"]


def test_more_stream_readers_than_the_stream_serves_are_refused() -> None:
    _, stack = build_app(SKIP_BUNDLING, nag=False)
    readers = {name: stack.functions.by_name[name] for name in ("Projector", "Saga", "Fanout")}
    with pytest.raises(ValueError, match="more than the stream serves"):
        type(stack.consumers)(
            stack, "TooMany", table=stack.tables.events, readers=readers, fanout=stack.functions.fanout
        )


def test_no_topic_stands_between_the_dispatcher_and_the_queues(template: Template) -> None:
    topics = [t["Properties"] for t in template.find_resources("AWS::SNS::Topic").values()]
    assert not [topic for topic in topics if topic.get("FifoTopic")]  # only the alarms' topic is left
    assert template.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "sqs"}}) == {}


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


def sends(template: Template, stack: HorizonStack) -> list[str]:
    """The logical ids of what the dispatcher may send to, sorted."""
    found = [s["Resource"] for s in statements(template, HANDLERS["fanout"]) if s["Action"] == "sqs:SendMessage"]
    resources = [r for listed in found for r in (listed if isinstance(listed, list) else [listed])]
    return sorted(resource["Fn::GetAtt"][0] for resource in resources)


def test_the_fan_out_may_send_to_each_queued_consumers_queue_and_touch_no_table(
    template: Template, stack: HorizonStack, with_a_third_consumer: tuple[Template, HorizonStack]
) -> None:
    for built, built_stack in ((template, stack), with_a_third_consumer):
        queues = [*built_stack.consumers.queues.values(), built_stack.consumers.failures]  # failures: give-ups
        assert sends(built, built_stack) == sorted(logical_id(built_stack, queue) for queue in queues)
    assert len(with_a_third_consumer[1].consumers.queues) == len(stack.consumers.queues) + 1
    found = statements(template, HANDLERS["fanout"])
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


def dispatcher_environment_of(template: Template) -> Mapping[str, Any]:
    function = template.find_resources("AWS::Lambda::Function")[function_id(template, HANDLERS["fanout"])]
    return dict(function["Properties"]["Environment"]["Variables"])


def routes_in(template: Template) -> tuple[Route, ...]:
    """The dispatcher's routes, each queue URL spelled `ref:<the queue's logical id>`."""
    value = dispatcher_environment_of(template)[FANOUT_QUEUES]
    if isinstance(value, dict):
        (_, parts) = value["Fn::Join"]
        value = "".join(part if isinstance(part, str) else f"ref:{part['Ref']}" for part in parts)
    return routes_of(value)


def test_the_dispatcher_sends_each_queued_consumers_queue_the_event_types_its_consumers_declare(
    template: Template, stack: HorizonStack
) -> None:
    routes = routes_in(template)
    assert routes == tuple(
        Route(name, f"ref:{logical_id(stack, stack.consumers.queues[name])}", subscriptions.reacts_to(name, 2))
        for name in subscriptions.QUEUED
    )
    assert routes[0].reacts_to == frozenset({InviteAccepted.event_type})  # the guest list's saga declares its type
    others = [
        f["Properties"]["Environment"]["Variables"]
        for logical, f in template.find_resources("AWS::Lambda::Function").items()
        if logical != function_id(template, HANDLERS["fanout"])
    ]
    assert not [env for env in others if FANOUT_QUEUES in env]


def test_a_consumer_that_declares_no_event_types_is_sent_every_commit(
    with_a_third_consumer: tuple[Template, HorizonStack],
) -> None:
    bigger, _ = with_a_third_consumer
    assert routes_in(bigger)[-1].reacts_to is None


def test_a_consumer_declaring_new_types_is_sent_those_types() -> None:
    bigger, _ = with_an_audit_consumer(frozenset({"InviteCreated"}))
    assert routes_in(bigger)[-1] == Route("Audit", routes_in(bigger)[-1].queue_url, frozenset({"InviteCreated"}))
