"""The catch-up Lambda over moto, step by step as the state machine invokes it: open, purge, segments, switch."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector
from domain.invitation import AcceptInvite, CreateInvite
from functions import catch_up
from horizon.catchup_actions import SagaNotRebuilt
from horizon.generations import live_collection
from horizon.local.lambda_context import LocalContext
from tests.integration.http_support import Stack, stack
from tests.principals import as_host

__all__ = ["stack"]


def step(**event: Any) -> dict[str, Any]:
    return catch_up.handler({"consumer": GuestListProjector.name, **event}, LocalContext("catch-up"))


def accept(stack: Stack, count: int) -> None:
    handler = stack.container.command_handler
    for _ in range(count):
        invite_id = uuid4()
        handler.handle(CreateInvite(id=invite_id, name="Guest"), as_host())
        handler.handle(AcceptInvite(id=invite_id), as_host())


def test_the_rebuild_steps_build_a_generation_switch_readers_to_it_and_purge_the_old_one(stack: Stack) -> None:
    accept(stack, 5)
    reads = stack.container.read_store
    step(action="segment", segment=0, total=1, generation=None, slice={})  # generation 0, as the stream builds it

    opened = step(action="open")
    purged = step(action="purge", generation=opened["generation"])
    built = [step(action="segment", segment=s, total=4, generation=opened["generation"]) for s in range(4)]
    half_built = live_collection(reads, GuestListProjector.name)
    step(action="switch", **opened)
    step(action="switch", **opened)  # a retried step changes nothing
    leftovers = step(action="purge", generation=opened["live"])

    assert opened == {"live": 0, "generation": 1, "revision": 0}
    assert (purged, leftovers) == ({"more": False}, {"more": False})
    assert sum(result["aggregates"] for result in built) == 5
    assert half_built == GuestListProjector.name  # readers stayed on generation 0 until the switch
    assert live_collection(reads, GuestListProjector.name) == "GuestList@1"
    document = reads.get("GuestList@1", GUEST_LIST_KEY)
    assert document is not None
    assert document.body["num_accepted"] == 5
    assert reads.list(GuestListProjector.name, 10).items == []


def test_a_purge_step_deletes_a_bounded_number_of_documents_and_says_more_remain(stack: Stack) -> None:
    from horizon.generations import purge
    from horizon.readstore import Write

    reads = stack.container.read_store
    reads.commit([Write("GuestList@3", f"k{index}", {"n": index}, 0) for index in range(30)])

    rounds = [purge(reads, GuestListProjector.name, 3, limit=12) for _ in range(3)]

    assert rounds == [True, True, False]
    assert reads.list("GuestList@3", 100).items == []


def test_a_saga_is_never_opened_for_a_rebuild_nor_caught_up_into_a_generation(stack: Stack) -> None:
    context = LocalContext("catch-up")
    with pytest.raises(SagaNotRebuilt, match="ResponseSaga is a saga"):
        catch_up.handler({"action": "open", "consumer": "ResponseSaga"}, context)
    with pytest.raises(SagaNotRebuilt):
        catch_up.handler({"consumer": "ResponseSaga", "segment": 0, "total": 1, "generation": 1}, context)
