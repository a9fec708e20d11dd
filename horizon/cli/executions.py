"""On AWS, `horizon republish|rebuild` start the stack's catch-up state machine and follow it.

The port `Executions` is what the CLI needs of Step Functions: start an execution, read its progress. The
adapter polls DescribeExecution and, for progress, the Distributed Map runs' item counts (ListMapRuns,
DescribeMapRun). Tests drive `follow` with a fake that subclasses the port.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STATE_MACHINE_OUTPUT = "CatchUpStateMachineArn"
"""The CloudFormation output of the Horizon stack naming its catch-up state machine (infra/stack.py)."""

POLL_SECONDS = 5.0
FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass(frozen=True)
class Progress:
    """An execution's status, its segments done of those started so far, and why it failed."""

    status: str
    done: int = 0
    total: int = 0
    error: str | None = None
    cause: str | None = None

    def line(self) -> str:
        """One human line, e.g. `RUNNING · segments 12/64`."""
        counted = f" · segments {self.done}/{self.total}" if self.total else ""
        return f"{self.status}{counted}"


class Executions(ABC):
    """Executions of one state machine."""

    @abstractmethod
    def start(self, name: str, document: dict[str, Any]) -> str:
        """Start an execution named `name` with `document` as its input; its ARN."""

    @abstractmethod
    def progress(self, arn: str) -> Progress:
        """Where the execution is now."""


class StepFunctionsExecutions(Executions):
    """The stack's catch-up state machine, through boto3."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, name: str, document: dict[str, Any]) -> str:
        """StartExecution."""
        started = self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(document))
        return str(started["executionArn"])

    def progress(self, arn: str) -> Progress:
        """DescribeExecution, and the item counts of its map runs (a rebuild has two; each counts its segments)."""
        execution = self._client.describe_execution(executionArn=arn)
        done = total = 0
        for run in self._client.list_map_runs(executionArn=arn).get("mapRuns", []):
            counts = self._client.describe_map_run(mapRunArn=run["mapRunArn"]).get("itemCounts", {})
            done += int(counts.get("succeeded", 0)) + int(counts.get("failed", 0))
            total += int(counts.get("total", 0))
        return Progress(str(execution["status"]), done, total, execution.get("error"), execution.get("cause"))


def execution_name(operation: str, consumer: str, now: datetime | None = None) -> str:
    """A name the console lists readably and that is unique per second: `rebuild-GuestList-20261127T101500Z`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{operation}-{consumer}-{stamp}"[:80]


def console_url(arn: str) -> str:
    """Where the execution's graph, events and map runs are shown in the Step Functions console."""
    region = arn.split(":")[3]
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{arn}"


def follow(
    executions: Executions,
    arn: str,
    echo: Callable[[str], None],
    *,
    poll: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Poll until the execution finishes, echoing each change of progress; its final progress."""
    last = ""
    while True:
        progress = executions.progress(arn)
        if progress.line() != last:
            last = progress.line()
            echo(last)
        if progress.status in FINISHED:
            return progress
        sleep(poll)


def run(
    executions: Executions,
    document: dict[str, Any],
    *,
    wait: bool,
    out: Callable[[str], None],
    err: Callable[[str], None],
    poll: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Start one execution (its ARN on `out`); unless `wait` is off, follow it (progress on `err`) and say how it
    ended. False when it did not succeed."""
    operation, consumer = document["operation"], document["consumer"]
    arn = executions.start(execution_name(operation, consumer), document)
    out(arn)
    if not wait:
        return True
    err(f"watch it: {console_url(arn)}")
    final = follow(executions, arn, err, poll=poll, sleep=sleep)
    if final.status != "SUCCEEDED":
        err(f"{operation} {consumer}: {final.status} {final.error or ''}".rstrip())
        if final.cause:
            err(final.cause)
        return False
    out(f"{consumer}: {operation} succeeded")
    return True
