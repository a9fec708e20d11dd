"""The route split between the two API functions, defined once in functions.routes."""

from __future__ import annotations

import pytest

from functions.api import ROUTES
from functions.routes import COMMAND_METHOD, COMMAND_PATH, function_for


@pytest.mark.parametrize(
    ("method", "path", "function"),
    [
        ("POST", "/commands/CreateInvite", "command-api"),
        ("GET", "/commands/CreateInvite", "query-api"),
        ("POST", "/invitations", "query-api"),
        ("GET", "/health", "query-api"),
        ("TRACE", "/health", "query-api"),
    ],
)
def test_only_posts_under_commands_go_to_the_command_function(method: str, path: str, function: str) -> None:
    assert function_for(method, path) == function


def test_the_api_lists_the_command_route_of_the_split() -> None:
    assert (COMMAND_METHOD, COMMAND_PATH) in ROUTES
