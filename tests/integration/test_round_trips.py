"""The DynamoDB round trips of the hot paths are part of the contract: a regression here costs money."""

from __future__ import annotations

import uuid

from bench.moto_env import moto_container
from domain.invitation import AcceptInvite, CreateInvite
from tests.principals import as_host


def test_a_command_costs_one_query_and_one_transaction() -> None:
    with moto_container() as (container, counter):
        invite = uuid.uuid4()
        container.command_handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
        with counter.measure() as calls:
            container.command_handler.handle(AcceptInvite(id=invite), as_host())
        assert dict(calls) == {"Query": 1, "TransactWriteItems": 1}


def test_projecting_a_commit_costs_one_batch_read_and_one_write_and_a_duplicate_only_the_read() -> None:
    with moto_container() as (container, counter):
        invite = uuid.uuid4()
        container.command_handler.handle(CreateInvite(id=invite, name="Athena"), as_host())
        commit = list(container.command_handler.handle(AcceptInvite(id=invite), as_host()).events)
        runtime = container.projectors[0]
        runtime.process(container.event_store.load("Invitation", invite, 0)[:1])
        with counter.measure() as first:
            runtime.process(commit)
        with counter.measure() as again:
            runtime.process(commit)
        assert dict(first) == {"BatchGetItem": 1, "TransactWriteItems": 1}
        assert dict(again) == {"BatchGetItem": 1}
