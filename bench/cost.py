"""List-price cost per million guest-list commands, from capacity units measured on the whole pipeline.

Each guest is invited and accepts over HTTP, and the saga answers (confirm or deny): three commands. Every
commit goes through both projectors and the saga in stream batches of up to 100 records.
"""

from __future__ import annotations

import uuid
from typing import Any

HTTP_PER_MILLION = 1.00
LAMBDA_REQUEST_PER_MILLION = 0.20


def run(guests: int) -> list[tuple[str, float]]:
    """Rows of (component, dollars per million commands)."""
    import boto3

    from bench.capacity import CapacityMeter
    from bench.moto_env import moto_container
    from domain.invitation import AcceptInvite, CreateInvite
    from horizon.dynamodb.eventstore import DynamoDBEventStore

    with moto_container() as (container, _):
        raw = boto3.client("dynamodb")

        def sizer(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
            item = raw.get_item(TableName=table, Key=key).get("Item")
            return None if item is None else dict(item)

        meter = CapacityMeter(container.dynamodb, sizer)
        phases: dict[str, dict[str, float]] = {}

        def phase(name: str, before: dict[str, float]) -> None:
            phases[name] = {unit: meter.units[unit] - before[unit] for unit in before}

        before = meter.units.copy()
        commits = []
        invites = []
        for _ in range(guests):
            invite = uuid.uuid4()
            invites.append(invite)
            commits.append(container.command_handler.handle(CreateInvite(id=invite, name="Guest")).events)
            commits.append(container.command_handler.handle(AcceptInvite(id=invite)).events)
        phase("command DynamoDB (create, accept)", before)
        before = meter.units.copy()
        for start in range(0, len(commits), 100):
            for saga in container.sagas:
                saga.process_batch(commits[start : start + 100])
        phase("saga DynamoDB (incl. the command it sends)", before)
        uncounted = DynamoDBEventStore(raw, container.settings.events_table)
        answers = [tuple(uncounted.load("Invitation", invite, 2)) for invite in invites]
        everything = commits + [answer for answer in answers if answer]
        before = meter.units.copy()
        for start in range(0, len(everything), 100):
            for projector in container.projectors:
                projector.process_batch(everything[start : start + 100])
        for start in range(len(commits), len(everything), 100):
            for saga in container.sagas:
                saga.process_batch(everything[start : start + 100])
        phase("projector DynamoDB (and the saga skipping answers)", before)

    commands = 3 * guests
    rows = [("HTTP API (2 of 3 commands)", HTTP_PER_MILLION * 2 / 3)]
    rows.append(("Lambda requests (commands + stream batches)", LAMBDA_REQUEST_PER_MILLION * (2 / 3 + 0.05)))
    for name, units in phases.items():
        dollars = units["WRU"] * 0.625 / 1e6 + units["RRU"] * 0.125 / 1e6
        rows.append(
            (f"{name}: {units['WRU'] / commands:.2f} WRU + {units['RRU'] / commands:.2f} RRU", dollars / commands * 1e6)
        )
    return rows
