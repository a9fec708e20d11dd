"""The catch-up Lambda (one Scan segment per invocation) over moto, as the state machine invokes it."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector
from domain.invitation import AcceptInvite, CreateInvite
from functions import catch_up
from horizon.local.lambda_context import LocalContext
from tests.integration.http_support import Stack, stack
from tests.principals import as_host

__all__ = ["stack"]


def test_every_segment_invoked_once_brings_a_new_generation_of_the_guest_list_up_to_date(stack: Stack) -> None:
    handler = stack.container.command_handler
    for _ in range(5):
        invite_id = uuid4()
        handler.handle(CreateInvite(id=invite_id, name="Guest"), as_host())
        handler.handle(AcceptInvite(id=invite_id), as_host())

    results = [
        catch_up.handler(
            {"consumer": GuestListProjector.name, "segment": segment, "total": 4, "generation": 1},
            LocalContext("catch-up"),
        )
        for segment in range(4)
    ]

    assert sum(result["aggregates"] for result in results) == 5
    assert all(result["failed"] == {} for result in results)
    document = stack.container.read_store.get("GuestList@1", GUEST_LIST_KEY)
    assert document is not None
    assert document.body["num_accepted"] == 5


def test_a_saga_has_no_generation_to_catch_up(stack: Stack) -> None:
    with pytest.raises(ValueError, match="a saga has no generations"):
        catch_up.handler(
            {"consumer": "ResponseSaga", "segment": 0, "total": 1, "generation": 1}, LocalContext("catch-up")
        )
