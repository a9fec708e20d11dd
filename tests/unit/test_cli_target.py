"""Where the `horizon` CLI points, and how it starts: without a table or stack, the local stack's DynamoDB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from horizon.cli.render import diff, flatten
from horizon.cli.target import Target

ROOT = Path(__file__).resolve().parents[2]


def test_with_no_options_the_target_is_the_local_dynamodb_endpoint_on_port_8000() -> None:
    target = Target.resolve({})

    assert target.endpoint_url == "http://127.0.0.1:8000"
    assert target.is_local


def test_dynamodb_port_moves_the_local_endpoint() -> None:
    assert Target.resolve({"DYNAMODB_PORT": "8123"}).endpoint_url == "http://127.0.0.1:8123"


@pytest.mark.parametrize("option", [{"events_table": "prod-events"}, {"stack": "Horizon"}])
def test_a_table_or_a_stack_targets_aws_with_boto3_s_own_credentials(option: dict[str, str]) -> None:
    target = Target.resolve({"DYNAMODB_PORT": "8123"}, **option)

    assert target.endpoint_url is None
    assert not target.is_local


def test_an_explicit_endpoint_wins_and_is_local_only_on_this_machine() -> None:
    assert Target.resolve({}, endpoint_url="http://localhost:9000", events_table="t").is_local
    assert not Target.resolve({}, endpoint_url="https://dynamodb.eu-west-1.amazonaws.com").is_local


def test_a_diff_lists_changed_added_and_removed_fields_by_dotted_path() -> None:
    before = {"status": "invited", "seats": {"taken": 1}, "gone": 1}
    after = {"status": "invited", "seats": {"taken": 2}, "new": None}

    assert diff(before, after) == {
        "gone": {"from": 1, "to": None},
        "seats.taken": {"from": 1, "to": 2},
        "new": {"from": None, "to": None},
    }
    assert flatten({"a": {}, "b": [1]}) == {"a": {}, "b": [1]}


def test_python_dash_m_horizon_runs_the_cli_and_import_horizon_does_not_load_it() -> None:
    helped = subprocess.run(
        [sys.executable, "-m", "horizon", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    probe = "import sys, horizon; print(sorted(m for m in sys.modules if m.split('.')[0] in {'click', 'boto3'}))"
    imported = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)

    assert helped.returncode == 0, helped.stderr
    assert all(name in helped.stdout for name in ("events", "state", "tail", "diff"))
    assert imported.stdout.strip() == "[]"
