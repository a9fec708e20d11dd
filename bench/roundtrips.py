"""How many DynamoDB round trips each operation costs (deterministic: counted, not timed)."""

from __future__ import annotations

import uuid
from collections import Counter

from tests.moto_container import another_lambda, moto_container


def _fmt(calls: Counter[str]) -> str:
    return " + ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "none"


def run() -> list[tuple[str, int, str]]:
    """Rows of (operation, round trips, calls by API)."""
    from domain.guest_list import InvitationProjector
    from domain.invitation import HOSTS, AcceptInvite, CreateInvite, DeclineInvite
    from horizon.authorization import Principal
    from horizon.command_handler import CommandContext, CommandHandler
    from horizon.generations import read_live

    def as_host() -> CommandContext:
        return CommandContext(principal=Principal.client("bench", [HOSTS]))

    rows: list[tuple[str, int, str]] = []
    with moto_container() as (container, counter):
        warm = container.command_handler
        with counter.measure() as calls:
            warm.handle(CreateInvite(id=uuid.uuid4(), name="Athena"), as_host())
        rows.append(
            (
                "the month's first creation anywhere (CreateInvite: no branch key yet, so it makes it; the data key,"
                " then the tip)",
                calls.total(),
                _fmt(calls),
            )
        )
        fresh = another_lambda(container)
        with counter.measure() as calls:
            CommandHandler(container.registry, fresh.event_store).handle(
                CreateInvite(id=uuid.uuid4(), name="Athena"), as_host()
            )
        rows.append(
            (
                "a fresh container's first creation (CreateInvite: the month's branch key with the subject's item,"
                " once per container and 15 min; the data key, then the tip)",
                calls.total(),
                _fmt(calls),
            )
        )
        invite = uuid.uuid4()
        with counter.measure() as calls:
            CommandHandler(container.registry, fresh.event_store).handle(
                CreateInvite(id=invite, name="Athena"), as_host()
            )
        rows.append(
            (
                "cold aggregate, new (CreateInvite: no read; its new data key, then its tip)",
                calls.total(),
                _fmt(calls),
            )
        )
        with counter.measure() as calls:
            accepted = CommandHandler(container.registry, another_lambda(container).event_store).handle(
                AcceptInvite(id=invite), as_host()
            )
        rows.append(
            (
                "cold container, existing aggregate (AcceptInvite: its tip, data key and branch key, one BatchGetItem)",
                calls.total(),
                _fmt(calls),
            )
        )
        other = uuid.uuid4()
        warm.handle(CreateInvite(id=other, name="Hades"), as_host())
        with counter.measure() as calls:
            warm.handle(AcceptInvite(id=other), as_host())
        rows.append(("warm command (AcceptInvite, aggregate cached)", calls.total(), _fmt(calls)))
        third = uuid.uuid4()
        warm.handle(CreateInvite(id=third, name="Zeus"), as_host())
        CommandHandler(container.registry, another_lambda(container).event_store).handle(
            DeclineInvite(id=third), as_host()
        )
        with counter.measure() as calls:
            warm.handle(DeclineInvite(id=third), as_host())
        rows.append(("lost race from a stale cache, resynced from ALL_OLD", calls.total(), _fmt(calls)))

        created = container.event_store.load("Invitation", invite)[:1]
        commit = list(accepted.events)
        for runtime in container.projectors:
            runtime.process(created)
            with counter.measure() as calls:
                runtime.process(commit)
            rows.append((f"project one commit ({runtime.name})", calls.total(), _fmt(calls)))
            with counter.measure() as calls:
                runtime.process(commit)
            rows.append((f"redelivered commit, skipped ({runtime.name})", calls.total(), _fmt(calls)))
        with counter.measure() as calls:
            assert read_live(container.read_store, InvitationProjector.name, str(invite)) is not None
        rows.append(
            ("query one invitation (its view and its generation's pointer, one request)", calls.total(), _fmt(calls))
        )
        saga = container.sagas[0]
        saga.process(created)
        with counter.measure() as calls:
            saga.process(commit)
        rows.append(("saga reaction incl. the ConfirmInvite it sends", calls.total(), _fmt(calls)))
    return rows
