"""The catch-up state machine: a Distributed Map over Scan segments running the catch-up Lambda."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from infra.catch_up import MAX_CONCURRENCY
from infra.stack import HorizonStack


def definition(template: Template) -> dict[str, Any]:
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    # The function's ARN is a token inside the JSON; a placeholder keeps the rest parseable.
    return dict(json.loads("".join(p if isinstance(p, str) else "ARN" for p in parts)))


def test_a_distributed_map_runs_one_catch_up_lambda_per_segment_with_bounded_concurrency(
    template: Template, stack: HorizonStack
) -> None:
    states = definition(template)["States"]
    [segments] = states.values()
    assert segments["Type"] == "Map"
    assert segments["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert segments["MaxConcurrency"] == MAX_CONCURRENCY
    assert segments["ItemsPath"] == "$.segments"
    assert segments["ItemSelector"]["segment.$"] == "$$.Map.Item.Value"
    [task] = segments["ItemProcessor"]["States"].values()
    assert (task["Type"], task["Resource"]) == ("Task", "ARN")
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    function = stack.get_logical_id(stack.functions.catch_up.node.default_child)  # type: ignore[arg-type]
    assert {"Fn::GetAtt": [function, "Arn"]} in machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    assert any("States.Timeout" in retry["ErrorEquals"] for retry in task["Retry"])


def test_the_state_machine_logs_everything_traces_and_runs_the_catch_up_function(
    template: Template, stack: HorizonStack
) -> None:
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {"TracingConfiguration": {"Enabled": True}, "LoggingConfiguration": Match.object_like({"Level": "ALL"})},
    )
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "functions.catch_up.handler", "Timeout": 900, "MemorySize": 1024}
    )
    template.has_output("CatchUpStateMachineArn", {})
