"""Following a catch-up execution: progress as the map runs count segments, and how it ended."""

from __future__ import annotations

from typing import Any

from horizon.catchup_actions import execution_input
from horizon.cli.executions import Executions, Progress, run

ARN = "arn:aws:states:eu-west-1:123456789012:execution:CatchUp:rebuild-GuestList-20261127T101500Z"


class ScriptedExecutions(Executions):
    """An execution that goes through the given progress, one step per poll."""

    def __init__(self, *steps: Progress) -> None:
        self.steps = list(steps)
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.polls = 0

    def start(self, name: str, document: dict[str, Any]) -> str:
        self.started.append((name, document))
        return ARN

    def progress(self, arn: str) -> Progress:
        self.polls += 1
        return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]


def follow(executions: Executions, wait: bool = True) -> tuple[bool, list[str], list[str], list[float]]:
    out: list[str] = []
    err: list[str] = []
    pauses: list[float] = []
    document = execution_input("rebuild", "GuestList", 4)
    ended = run(executions, document, wait=wait, out=out.append, err=err.append, poll=2, sleep=pauses.append)
    return ended, out, err, pauses


def test_a_rebuild_is_followed_until_it_succeeds_printing_each_change_of_progress() -> None:
    executions = ScriptedExecutions(
        Progress("RUNNING"),
        Progress("RUNNING", 0, 4),
        Progress("RUNNING", 0, 4),
        Progress("RUNNING", 3, 4),
        Progress("SUCCEEDED", 8, 8),
    )

    ended, out, err, pauses = follow(executions)

    assert ended
    assert out == [ARN, "GuestList: rebuild succeeded"]
    assert (
        err[0]
        == f"watch it: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/{ARN}"
    )
    assert err[1:] == ["RUNNING", "RUNNING · segments 0/4", "RUNNING · segments 3/4", "SUCCEEDED · segments 8/8"]
    assert pauses == [2, 2, 2, 2]
    [(name, document)] = executions.started
    assert name.startswith("rebuild-GuestList-")
    assert len(name) <= 80
    assert document["operation"] == "rebuild"


def test_a_failed_execution_says_why_and_is_not_a_success() -> None:
    cause = '{"errorType": "CatchUpFailed", "errorMessage": "{\\"segment\\": 2, \\"failed\\": {...}}"}'
    executions = ScriptedExecutions(Progress("RUNNING", 1, 4), Progress("FAILED", 4, 4, "CatchUpFailed", cause))

    ended, out, err, _ = follow(executions)

    assert not ended
    assert out == [ARN]
    assert err[-2:] == ["rebuild GuestList: FAILED CatchUpFailed", cause]


def test_no_wait_prints_the_arn_and_never_polls() -> None:
    executions = ScriptedExecutions(Progress("RUNNING"))

    ended, out, err, _ = follow(executions, wait=False)

    assert (ended, out, err, executions.polls) == (True, [ARN], [], 0)
