"""The catch-up state machine: republish is a Distributed Map over Scan segments; a rebuild is the whole rebuild
(open, purge leftovers, build, switch, settle, catch up again, grace, purge the old generation), every step an
action of the one catch-up Lambda."""

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


def walk(states: dict[str, Any], start: str) -> list[str]:
    """The states from `start` to the end, taking each Choice's default (no more to purge) branch."""
    names, name = [], start
    while name:
        names.append(name)
        state = states[name]
        name = state.get("Default") if state["Type"] == "Choice" else state.get("Next")
    return names


def action(state: dict[str, Any]) -> str:
    """The catch-up function's action a state runs (a Map's is in its items)."""
    if state["Type"] == "Map":
        assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
        [task] = state["ItemProcessor"]["States"].values()
        assert (task["Type"], task["Resource"]) == ("Task", "ARN")
        return f"map:{state['ItemSelector']['action']}"
    assert (state["Type"], state["Resource"]) == ("Task", "ARN")
    return str(state["Parameters"]["action"])


def test_a_rebuild_opens_builds_switches_in_one_step_catches_up_again_and_purges_the_old_generation(
    template: Template,
) -> None:
    machine = definition(template)
    states = machine["States"]
    operation = states[machine["StartAt"]]
    [rebuild] = operation["Choices"]
    assert (rebuild["Variable"], rebuild["StringEquals"]) == ("$.operation", "rebuild")

    path = walk(states, rebuild["Next"])

    kinds = [states[name]["Type"] for name in path]
    assert kinds == ["Task", "Task", "Choice", "Map", "Task", "Wait", "Map", "Wait", "Task", "Choice", "Succeed"]
    tasks = [action(states[name]) for name in path if states[name]["Type"] in ("Task", "Map")]
    assert tasks == ["open", "purge", "map:segment", "switch", "map:segment", "purge"]
    open_, leftovers, leftovers_left, build, switch, settle, again, grace, old, old_left, _ = (
        states[name] for name in path
    )
    assert open_["ResultPath"] == "$.opened"
    # The purges are bounded steps, looped while the function says more remain: the leftovers of the generation
    # being built first, the old generation last.
    assert leftovers["Parameters"]["generation.$"] == "$.opened.generation"
    assert old["Parameters"]["generation.$"] == "$.opened.live"
    for purge, left in ((path[1], leftovers_left), (path[8], old_left)):
        [more] = left["Choices"]
        assert (more["Variable"], more["BooleanEquals"], more["Next"]) == ("$.purged.more", True, purge)
    for segments in (build, again):
        assert segments["ItemSelector"]["generation.$"] == "$.opened.generation"
        assert segments["ResultPath"] is None  # results discarded: the state stays small at any segment count
    assert switch["Parameters"] == {
        "action": "switch",
        "consumer.$": "$.consumer",
        "live.$": "$.opened.live",
        "generation.$": "$.opened.generation",
        "revision.$": "$.opened.revision",
    }
    assert (settle["SecondsPath"], grace["SecondsPath"]) == ("$.settle", "$.grace")


def test_a_republish_is_one_distributed_map_of_segments_with_the_slice_and_bounded_concurrency(
    template: Template,
) -> None:
    machine = definition(template)
    states = machine["States"]
    path = walk(states, states[machine["StartAt"]]["Default"])

    [republish] = (states[name] for name in path)
    assert action(republish) == "map:segment"
    assert republish["MaxConcurrency"] == MAX_CONCURRENCY
    assert republish["ItemsPath"] == "$.segments"
    assert republish["ItemSelector"] == {
        "action": "segment",
        "consumer.$": "$.consumer",
        "generation.$": "$.generation",
        "slice.$": "$.slice",
        "total.$": "$.total",
        "segment.$": "$$.Map.Item.Value",
    }
    [task] = republish["ItemProcessor"]["States"].values()
    # A timed-out segment runs again (idempotent); one whose aggregates failed is not retried: it fails the run.
    retried = [error for retry in task["Retry"] for error in retry["ErrorEquals"]]
    assert "States.Timeout" in retried
    assert "States.TaskFailed" not in retried


def test_every_step_invokes_the_one_catch_up_function(template: Template, stack: HorizonStack) -> None:
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    function = stack.get_logical_id(stack.functions.catch_up.node.default_child)  # type: ignore[arg-type]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    tokens = [part for part in parts if not isinstance(part, str)]
    assert len(tokens) == 7  # open, two purges, switch, and the segment task of each of the three maps
    assert all(token == {"Fn::GetAtt": [function, "Arn"]} for token in tokens)


def test_the_state_machine_logs_everything_traces_and_runs_the_catch_up_function(template: Template) -> None:
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {"TracingConfiguration": {"Enabled": True}, "LoggingConfiguration": Match.object_like({"Level": "ALL"})},
    )
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "functions.catch_up.handler", "Timeout": 900, "MemorySize": 1024}
    )
    template.has_output("CatchUpStateMachineArn", {})
