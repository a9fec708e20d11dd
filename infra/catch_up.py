"""The catch-up state machine: republish or a whole rebuild, Distributed Maps over Scan segments.

Input (horizon/catchup_actions.py `execution_input`, which `horizon republish|rebuild --stack` starts it with):
{"operation": "republish"|"rebuild", "consumer", "generation": null, "total", "segments": [0..total-1], "slice",
"settle", "grace"}. Each step is an action of the catch-up function (functions/catch_up.py). See
docs/delivery.md for how many segments a table needs and what bounds a run.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.stage import Stage

ACKNOWLEDGED = {
    "AwsSolutions-IAM5[Resource::<FunctionsCatchUpE5DA4CD4.Arn>:*]": "Invoking the catch-up function by any of "
    "its versions or aliases: the CDK's LambdaInvoke grant; it names the one function. (With SnapStart on, the "
    "tasks invoke the live alias and the grant names that alias alone.)",
    "AwsSolutions-IAM5[Resource::*]": "Step Functions' log delivery and X-Ray actions have no resource-level "
    "permissions.",
}
"""cdk-nag findings on the state machine's roles, and why each is what AWS requires."""

MAP_REASON = "A Distributed Map starts and stops child executions of its own state machine, named only at run time."

MAX_CONCURRENCY = 100
"""Segments in flight: bounded so catch-up leaves Lambda concurrency and table capacity to live traffic."""


class CatchUpMachine(Construct):
    """Republish: a Distributed Map of segments. Rebuild: open, purge leftovers, build, switch, settle, catch up
    again, grace, purge the old generation. Every step is an action of the one catch-up function."""

    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        self._function = function
        republish = self._segments("Republish", "$.generation")
        opened = self._step("Open", {"action": "open"}, result_path="$.opened")
        leftovers = self._purge("PurgeLeftovers", "$.opened.generation")
        build = self._segments("Build", "$.opened.generation")
        switch = self._step(
            "Switch",
            {
                "action": "switch",
                "live.$": "$.opened.live",
                "generation.$": "$.opened.generation",
                "revision.$": "$.opened.revision",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        # The stream's runtimes trust the pointer they read for a while: what they still wrote to the old
        # generation is caught up by a second pass; readers holding the old pointer get `grace` seconds.
        settle = sfn.Wait(self, "Settle", time=sfn.WaitTime.seconds_path("$.settle"))
        again = self._segments("CatchUpAfterSwitch", "$.opened.generation")
        grace = sfn.Wait(self, "Grace", time=sfn.WaitTime.seconds_path("$.grace"))
        old = self._purge("PurgeOld", "$.opened.live")
        rebuilt = sfn.Succeed(self, "Rebuilt")
        leftovers_loop = sfn.Choice(self, "LeftoversRemain").when(self._more(), leftovers).otherwise(build)
        old_loop = sfn.Choice(self, "OldRemains").when(self._more(), old).otherwise(rebuilt)
        opened.next(leftovers).next(leftovers_loop)
        build.next(switch).next(settle).next(again).next(grace).next(old).next(old_loop)
        operation = (
            sfn.Choice(self, "Operation")
            .when(sfn.Condition.string_equals("$.operation", "rebuild"), opened)
            .otherwise(republish)
        )
        log_group = logs.LogGroup(self, "Logs", retention=stage.log_retention, removal_policy=stage.removal_policy)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(operation),
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

    def _step(self, name: str, payload: dict[str, Any], *, result_path: str) -> tasks.LambdaInvoke:
        """One action of the catch-up function on the execution's consumer."""
        step = tasks.LambdaInvoke(
            self,
            name,
            lambda_function=self._function,
            payload=sfn.TaskInput.from_object({**payload, "consumer.$": "$.consumer"}),
            payload_response_only=True,
            retry_on_service_exceptions=True,
            result_path=result_path,
        )
        # Every step is idempotent (positions, a conditional switch, deletes), so a timed-out one runs again.
        step.add_retry(errors=["States.Timeout"], max_attempts=2, backoff_rate=2)
        return step

    def _purge(self, name: str, generation: str) -> tasks.LambdaInvoke:
        """Delete a bounded part of one generation; the Choice after it loops while more remain."""
        return self._step(name, {"action": "purge", "generation.$": generation}, result_path="$.purged")

    @staticmethod
    def _more() -> sfn.Condition:
        return sfn.Condition.boolean_equals("$.purged.more", True)

    def _segments(self, name: str, generation: str) -> sfn.DistributedMap:
        """One catch-up function per Scan segment, `MAX_CONCURRENCY` at a time; the results are discarded (each
        segment logs its own), so the execution's state stays far under Step Functions' 256 KB."""
        segment = tasks.LambdaInvoke(
            self,
            f"{name}Segment",
            lambda_function=self._function,
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        # A segment that timed out is safe to run again: positions make catch-up idempotent. One whose
        # aggregates failed (CatchUpFailed) is not retried: the execution fails and names them.
        segment.add_retry(errors=["States.Timeout"], max_attempts=2, backoff_rate=2)
        segments = sfn.DistributedMap(
            self,
            name,
            items_path="$.segments",
            max_concurrency=MAX_CONCURRENCY,
            item_selector={
                "action": "segment",
                "consumer.$": "$.consumer",
                "generation.$": generation,
                "slice.$": "$.slice",
                "total.$": "$.total",
                "segment.$": "$$.Map.Item.Value",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        segments.item_processor(segment)
        return segments
