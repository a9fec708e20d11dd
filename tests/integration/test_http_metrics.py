"""The command function reports what it did as embedded metrics, through the real Lambda handler on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from horizon import telemetry
from tests.integration.http_support import Stack, command, create_invite, stack

__all__ = ["stack"]  # the fixture, imported for pytest to find


def _metrics(out: str) -> dict[str, float]:
    """Every metric value of the EMF blobs printed to stdout, summed by name."""
    found: dict[str, float] = {}
    for line in out.splitlines():
        if not line.startswith("{") or "_aws" not in line:
            continue
        blob: dict[str, Any] = json.loads(line)
        assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == telemetry.NAMESPACE
        for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[metric["Name"]]
            found[metric["Name"]] = found.get(metric["Name"], 0) + sum(value if isinstance(value, list) else [value])
    return found


def test_handled_and_rejected_commands_are_counted(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    invite = create_invite()
    assert command("AcceptInvite", {"id": str(invite)}).status == 200
    assert command("DeclineInvite", {"id": str(invite)}).status == 409
    counted = _metrics(capsys.readouterr().out)
    assert counted[telemetry.COMMANDS_HANDLED] == 2  # the create and the accept
    assert counted[telemetry.COMMANDS_REJECTED] == 1
