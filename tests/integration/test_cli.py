"""The `horizon` command-line tool against moto: events, state, diff, tail, targets and exit codes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import boto3
import pytest
from click.testing import CliRunner, Result

from domain import build_registry
from domain.invitation import AcceptInvite, ConfirmInvite, CreateInvite
from horizon.cli.app import cli
from horizon.cli.tail import follow
from horizon.command_handler import CommandHandler
from horizon.dynamodb import DynamoDBEventStore
from horizon.events import Event, Metadata
from tests.integration.conftest import EVENTS_TABLE
from tests.principals import as_host, as_saga

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def horizon(*args: str, table: str = EVENTS_TABLE) -> Result:
    return CliRunner().invoke(cli, ["--events-table", table, *args], catch_exceptions=False)


def story(store: DynamoDBEventStore) -> UUID:
    """Ada's invitation at v3: created, accepted, confirmed."""
    handler = CommandHandler(build_registry(), store)
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Ada", age=36), as_host())
    handler.handle(AcceptInvite(id=invite_id), as_host())
    handler.handle(ConfirmInvite(id=invite_id), as_saga())
    return invite_id


def append_raw(store: DynamoDBEventStore, aggregate_type: str, aggregate_id: UUID, event_type: str) -> None:
    current = len(store.load(aggregate_type, aggregate_id))
    metadata = Metadata(correlation_id="c", causation_id="c", command="Old")
    event = Event(
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=current + 1,
        type=event_type,
        metadata=metadata,
    )
    store.append([event], current)


@pytest.fixture
def invite(dynamodb_event_store: DynamoDBEventStore) -> UUID:
    return story(dynamodb_event_store)


def test_events_prints_one_readable_line_per_event_in_version_order(invite: UUID) -> None:
    result = horizon("events", "Invitation", str(invite))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["v1", "v2", "v3"]
    assert "InviteCreated" in lines[0]
    assert '{"name": "Ada", "age": 36, "email": null}' in lines[0]
    assert "(CreateInvite, correlation " in lines[0]


def test_events_as_json_are_envelopes_one_per_line_within_the_bounds(invite: UUID) -> None:
    result = horizon("events", "Invitation", str(invite), "--from", "2", "--to", "3", "--json")

    assert result.exit_code == 0, result.output
    envelopes = [Event.model_validate_json(line) for line in result.output.splitlines()]
    assert [(e.type, e.version) for e in envelopes] == [("InviteAccepted", 2), ("InviteConfirmed", 3)]


def test_state_prints_the_state_now_and_at_a_version(invite: UUID) -> None:
    now = horizon("state", "Invitation", str(invite))
    then = horizon("state", "Invitation", str(invite), "--version", "2", "--json")

    assert now.exit_code == then.exit_code == 0
    assert now.output.splitlines()[0] == f"Invitation {invite} at version 3"
    assert '  status          "confirmed"' in now.output.splitlines()
    assert json.loads(then.output) == {
        "aggregate_type": "Invitation",
        "aggregate_id": str(invite),
        "version": 2,
        "state": {
            "name": "Ada",
            "age": 36,
            "status": "accepted",
            "decline_reason": None,
            "email": None,
            "forgotten": False,
        },
    }


def test_state_as_of_a_time_is_the_state_after_the_last_event_by_then(
    invite: UUID, dynamodb_event_store: DynamoDBEventStore
) -> None:
    first = dynamodb_event_store.load("Invitation", invite)[0].timestamp

    result = horizon("state", "Invitation", str(invite), "--as-of", first.isoformat(), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["version"] == 1


def test_diff_shows_what_changed_between_two_versions(invite: UUID) -> None:
    text = horizon("diff", "Invitation", str(invite), "--from", "1", "--to", "3")
    created = horizon("diff", "Invitation", str(invite), "--from", "0", "--to", "1", "--json")

    assert text.exit_code == created.exit_code == 0
    assert text.output.splitlines() == [
        f"Invitation {invite} from version 1 to 3",
        '  status  "invited" → "confirmed"',
    ]
    assert json.loads(created.output)["changes"] == {"name": {"from": "", "to": "Ada"}, "age": {"from": None, "to": 36}}


def test_tail_from_the_start_prints_commits_of_the_chosen_type(
    dynamodb_event_store: DynamoDBEventStore, invite: UUID
) -> None:
    append_raw(dynamodb_event_store, "Other", uuid4(), "SomethingHappened")
    other = horizon("tail", "--from-start", "--type", "Other", "--count", "1", "--json")
    ours = horizon("tail", "--from-start", "--type", "Invitation", "--count", "3")

    assert other.exit_code == ours.exit_code == 0
    assert json.loads(other.output)["type"] == "SomethingHappened"
    assert [line.split()[:3] for line in ours.output.splitlines()] == [
        ["Invitation", str(invite), "v1"],
        ["Invitation", str(invite), "v2"],
        ["Invitation", str(invite), "v3"],
    ]


def test_tail_follows_only_commits_written_after_it_started(
    dynamodb: DynamoDBClient, dynamodb_event_store: DynamoDBEventStore, invite: UUID
) -> None:
    later = uuid4()
    waits: list[float] = []

    def write_while_waiting(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            append_raw(dynamodb_event_store, "Other", later, "SomethingHappened")

    events = follow(dynamodb, boto3.client("dynamodbstreams"), EVENTS_TABLE, sleep=write_while_waiting)

    assert next(events).aggregate_id == later
    assert len(waits) == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["state", "Invitation", str(UUID(int=7))], 1, "does not exist"),
        (["events", "Nope", str(UUID(int=7))], 1, "unknown aggregate type"),
        (["state", "Invitation", "{invite}", "--version", "9"], 1, "current version is 3"),
        (["events", "Invitation", "{invite}", "--from", "4"], 1, "current version is 3"),
        (["events", "Invitation", "{invite}", "--from", "3", "--to", "2"], 2, "after to_version"),
        (["state", "Invitation", "{invite}", "--version", "0"], 2, "--version"),
        (["state", "Invitation", "{invite}", "--version", "1", "--as-of", "2026-11-27T10:00:00Z"], 2, "not both"),
        (["state", "Invitation", "{invite}", "--as-of", "2026-11-27T10:00:00"], 2, "offset"),
        (["state", "Invitation", "{invite}", "--as-of", "noon"], 2, "--as-of"),
        (["diff", "Invitation", "{invite}", "--from", "3", "--to", "1"], 2, "after --to"),
        (["state", "Invitation", "not-a-uuid"], 2, "UUID"),
    ],
)
def test_failures_have_a_one_line_message_and_a_stable_exit_code(
    invite: UUID, args: Sequence[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(cli, ["--events-table", EVENTS_TABLE, *(a.format(invite=invite) for a in args)])

    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_unreadable_history_exits_3_naming_the_event(dynamodb_event_store: DynamoDBEventStore) -> None:
    invite_id = story(dynamodb_event_store)
    append_raw(dynamodb_event_store, "Invitation", invite_id, "InviteWaitlisted")

    result = CliRunner().invoke(cli, ["--events-table", EVENTS_TABLE, "state", "Invitation", str(invite_id)])

    assert result.exit_code == 3
    assert "version 4 (InviteWaitlisted, schema v1)" in result.output


def test_a_table_that_does_not_exist_exits_4(dynamodb: DynamoDBClient) -> None:
    result = CliRunner().invoke(cli, ["--events-table", "missing", "events", "Invitation", str(uuid4())])

    assert result.exit_code == 4
    assert "ResourceNotFoundException" in result.output


def test_a_stack_name_finds_the_events_table_in_its_outputs(dynamodb: DynamoDBClient) -> None:
    template: dict[str, Any] = {
        "Resources": {
            "Events": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "N"},
                    ],
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            }
        },
        "Outputs": {"EventsTableName": {"Value": {"Ref": "Events"}}},
    }
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="Horizon", TemplateBody=json.dumps(template))
    table = cloudformation.describe_stacks(StackName="Horizon")["Stacks"][0]["Outputs"][0]["OutputValue"]
    invite_id = story(DynamoDBEventStore(dynamodb, table))

    found = CliRunner().invoke(cli, ["--stack", "Horizon", "state", "Invitation", str(invite_id), "--json"])
    missing = CliRunner().invoke(cli, ["--stack", "Nope", "state", "Invitation", str(invite_id)])

    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["version"] == 3
    assert missing.exit_code == 4


def test_ctrl_c_ends_tail_with_exit_code_0(dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt
        yield  # a generator, like the real follow

    monkeypatch.setattr("horizon.cli.tail.follow", interrupted)

    result = horizon("tail")

    assert result.exit_code == 0
    assert result.output == ""


def test_tail_on_a_table_without_a_stream_exits_4(dynamodb: DynamoDBClient) -> None:
    dynamodb.create_table(
        TableName="no-stream",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    result = CliRunner().invoke(cli, ["--events-table", "no-stream", "tail"])

    assert result.exit_code == 4
    assert "has no stream" in result.output
