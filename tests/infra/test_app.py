"""The app's context handling, without synthesizing anything."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.app import guest_limit, project_context


def test_guest_limit_defaults_to_two() -> None:
    assert guest_limit(App()) == 2


@pytest.mark.parametrize("value", [5, "5"])
def test_guest_limit_comes_from_context_or_the_command_line(value: Any) -> None:
    assert guest_limit(App(context={"guest_limit": value})) == 5


@pytest.mark.parametrize("value", ["0", "two", -1, "2.5", True])
def test_a_bad_guest_limit_stops_the_synth(value: Any) -> None:
    with pytest.raises(ValueError, match="guest_limit"):
        guest_limit(App(context={"guest_limit": value}))


def test_cdk_json_names_the_app_and_its_default_guest_limit() -> None:
    assert project_context()["guest_limit"] == 2
