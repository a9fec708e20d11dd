"""A burst of acceptances against a fresh stack: the saga's durable seat count never over-confirms."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.client import Client
from tests.e2e.conftest import running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

LIMIT = 3
GUESTS = 8


def test_concurrent_acceptances_confirm_exactly_the_limit_and_deny_the_rest(tmp_path: Path) -> None:
    with running_stack(tmp_path / "stack.log", guest_limit=LIMIT) as stack:
        ids = [str(uuid.uuid4()) for _ in range(GUESTS)]
        for number, invite_id in enumerate(ids):
            assert stack.command("CreateInvite", id=invite_id, name=f"Guest {number}").status == 200

        # WHEN every guest accepts at once
        with ThreadPoolExecutor(max_workers=GUESTS) as pool:
            answers = list(pool.map(lambda invite_id: stack.command("AcceptInvite", id=invite_id), ids))
        assert [a.status for a in answers] == [200] * GUESTS

        # THEN exactly LIMIT are confirmed, the rest denied, and each history ends with one decision
        def settled(client: Client = stack) -> list[str] | None:
            statuses = [client.get(f"/invitations/{i}").body.get("status") for i in ids]
            return statuses if all(s in ("confirmed", "denied") for s in statuses) else None

        statuses = stack.wait_for(settled, "every acceptance to be answered")
        assert statuses.count("confirmed") == LIMIT
        assert statuses.count("denied") == GUESTS - LIMIT
        for invite_id in ids:
            history = [e["type"] for e in stack.get(f"/aggregates/Invitation/{invite_id}/events").body["events"]]
            assert history[:2] == ["InviteCreated", "InviteAccepted"]
            assert len(history) == 3
            assert history[2] in ("InviteConfirmed", "InviteDenied")

        expected = {"num_accepted": GUESTS, "num_confirmed": LIMIT, "num_denied": GUESTS - LIMIT}

        def counted() -> dict[str, int] | None:
            body = stack.get("/guestlist").body
            return body if all(body[k] == v for k, v in expected.items()) else None

        assert stack.wait_for(counted, "the guest list to count every decision")["guest_limit"] == LIMIT
