"""Twenty concurrent creations with one e-mail, over HTTP: exactly one invitation."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.client import Client

pytestmark = pytest.mark.e2e

RACERS = 20


def test_twenty_concurrent_creates_with_one_e_mail_make_one_invitation_and_nineteen_409s(stack: Client) -> None:
    # An e-mail of this run's own: a deployed stack keeps the e-mails of earlier runs.
    email = f"poseidon-{uuid.uuid4().hex[:12]}@sea.example"
    ids = [str(uuid.uuid4()) for _ in range(RACERS)]

    def create(index: int) -> tuple[str, int, str]:
        spelled = email if index % 2 else f"  {email.upper()} "  # the same e-mail once normalised
        answer = stack.command("CreateInvite", id=ids[index], name=f"Poseidon {index}", email=spelled)
        return ids[index], answer.status, str(answer.body.get("detail", ""))

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        answers = list(pool.map(create, range(RACERS)))

    statuses = sorted(status for _, status, _ in answers)
    assert statuses == [200] + [409] * (RACERS - 1)
    refusals = [detail for _, status, detail in answers if status == 409]
    assert all("e-mail is taken" in detail for detail in refusals)
    assert not any(email in detail.lower() for detail in refusals)
    # only the winner's invitation exists
    existing = [i for i in ids if stack.get(f"/aggregates/Invitation/{i}/events").status == 200]
    assert existing == [next(i for i, status, _ in answers if status == 200)]
