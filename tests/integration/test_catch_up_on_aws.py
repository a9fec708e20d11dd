"""`horizon republish|rebuild --stack` on moto: they start the stack's catch-up state machine with the input its
steps read, return its ARN with --no-wait, follow it otherwise, and exit 5 when it fails."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import boto3
import pytest
from click.testing import CliRunner, Result

from horizon.catchup import Slice
from horizon.catchup_actions import execution_input, slice_from_json
from horizon.cli.app import cli
from horizon.cli.executions import STATE_MACHINE_OUTPUT
from tests.integration.conftest import EVENTS_TABLE, READ_TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROLE = "arn:aws:iam::123456789012:role/catch-up"


@pytest.fixture
def machine(dynamodb: DynamoDBClient) -> str:
    """A state machine and a stack whose outputs name it and the tables, as infra/stack.py's do."""
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    arn = boto3.client("stepfunctions").create_state_machine(
        name="CatchUp", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    outputs = {"EventsTableName": EVENTS_TABLE, "ReadTableName": READ_TABLE, STATE_MACHINE_OUTPUT: arn}
    template: dict[str, Any] = {
        "Resources": {"Failures": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName="Horizon", TemplateBody=json.dumps(template))
    return str(arn)


def horizon(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--stack", "Horizon", *args])


def started(machine: str) -> list[dict[str, Any]]:
    client = boto3.client("stepfunctions")
    executions = client.list_executions(stateMachineArn=machine)["executions"]
    return [json.loads(client.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions]


def test_rebuild_with_no_wait_starts_the_whole_rebuild_on_the_state_machine_and_prints_its_arn(machine: str) -> None:
    result = horizon("rebuild", "GuestList", "--segments", "4", "--no-wait")

    assert result.exit_code == 0, result.output
    [arn] = result.stdout.split()
    assert arn.startswith("arn:aws:states:")
    assert ":execution:CatchUp:rebuild-GuestList-" in arn
    assert started(machine) == [execution_input("rebuild", "GuestList", 4, settle=10, grace=30)]
    [document] = started(machine)
    assert (document["segments"], document["generation"]) == ([0, 1, 2, 3], None)


def test_republish_passes_its_slice_to_every_segment(machine: str) -> None:
    invite = uuid4()
    result = horizon(
        "republish",
        "ResponseSaga",
        "--type",
        "Invitation",
        "--id",
        str(invite),
        "--from-version",
        "2",
        "--since",
        "2026-11-27T10:00:00+00:00",
        "--segments",
        "2",
        "--no-wait",
    )

    assert result.exit_code == 0, result.output
    [document] = started(machine)
    assert (document["operation"], document["consumer"], document["total"]) == ("republish", "ResponseSaga", 2)
    where = slice_from_json(document["slice"])
    assert where == Slice("Invitation", invite, 2, where.since)
    assert where.since is not None
    assert where.since.isoformat() == "2026-11-27T10:00:00+00:00"


def test_a_failed_execution_is_reported_with_exit_code_5(machine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_EXECUTION_HISTORY_TYPE", "FAILURE")  # moto's executions then end FAILED

    result = horizon("republish", "GuestList")

    assert result.exit_code == 5, result.output
    assert "FAILED" in result.stderr
    assert "console.aws.amazon.com/states" in result.stderr


def test_rebuilding_a_saga_on_aws_is_refused_before_anything_starts(machine: str) -> None:
    result = horizon("rebuild", "ResponseSaga")

    assert result.exit_code == 2
    assert "ResponseSaga is a saga" in result.output
    assert started(machine) == []
