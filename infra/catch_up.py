"""The catch-up state machine: a Distributed Map over Scan segments, one catch-up Lambda per segment.

Input: {"consumer": "GuestList", "generation": null, "total": 64, "segments": [0, 1, ..., 63]}. Each segment's
invocation runs `catch_up(consumer, segment, total)` (functions/catch_up.py); a rebuild passes the generation
it builds. See docs/delivery.md for how many segments a table needs and what bounds a run.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.stage import Stage

ACKNOWLEDGED = {
    "AwsSolutions-IAM5[Resource::<FunctionsCatchUpE5DA4CD4.Arn>:*]": "Invoking the catch-up function by any of "
    "its versions or aliases: the CDK's LambdaInvoke grant; it names the one function.",
    "AwsSolutions-IAM5[Resource::*]": "Step Functions' log delivery and X-Ray actions have no resource-level "
    "permissions.",
}
"""cdk-nag findings on the state machine's roles, and why each is what AWS requires."""

MAP_REASON = "A Distributed Map starts and stops child executions of its own state machine, named only at run time."

MAX_CONCURRENCY = 100
"""Segments in flight: bounded so catch-up leaves Lambda concurrency and table capacity to live traffic."""


class CatchUpMachine(Construct):
    """Runs the catch-up function once per Scan segment, in parallel, retrying throttles and timeouts."""

    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        segment = tasks.LambdaInvoke(
            self,
            "CatchUpSegment",
            lambda_function=function,
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        # A segment that timed out is safe to run again: positions make catch-up idempotent.
        segment.add_retry(errors=["States.Timeout", "States.TaskFailed"], max_attempts=2, backoff_rate=2)
        segments = sfn.DistributedMap(
            self,
            "Segments",
            items_path="$.segments",
            max_concurrency=MAX_CONCURRENCY,
            item_selector={
                "consumer.$": "$.consumer",
                "generation.$": "$.generation",
                "total.$": "$.total",
                "segment.$": "$$.Map.Item.Value",
            },
        )
        segments.item_processor(segment)
        log_group = logs.LogGroup(self, "Logs", retention=stage.log_retention, removal_policy=stage.removal_policy)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(segments),
            timeout=Duration.hours(24),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL),
        )
        for finding, reason in ACKNOWLEDGED.items():
            Validations.of(self).acknowledge(Acknowledgment(id=finding, reason=reason))
        # The child executions' ARN embeds the state machine's name, a token: acknowledged by its pattern.
        for suffix in (":*", "/*:*"):
            name = '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"CatchUpStateMachineB8881EC6"}]}]}'
            arn = f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{name}{suffix}"
            finding = f"AwsSolutions-IAM5[Resource::{arn}]"
            Validations.of(self).acknowledge(Acknowledgment(id=finding, reason=MAP_REASON))
