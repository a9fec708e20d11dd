"""Guests answer for themselves, over HTTP against the local stack: tokens the front door verifies, as on AWS.

A stack of its own: the session's stack belongs to the guest-list story, whose counters no answer may change.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from horizon.local.auth import issue
from tests.e2e.client import Answer, Client
from tests.e2e.conftest import running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

DEMETER, HADES = "demeter@olympus.example", "hades@underworld.example"


def guest(stack: Client, email: str, *, verified: bool = True) -> Client:
    """The stack as a guest whose token carries `email` (verified by its issuer unless told otherwise)."""
    subject = f"guest-{uuid.uuid4().hex[:8]}"  # Cognito's subjects are opaque ids, never the e-mail
    return stack.as_(issue(stack.key, ["guests"], subject=subject, email=email, email_verified=verified))


def refused(answer: Answer) -> None:
    """A 403 problem that says nothing of the invitation's owner."""
    assert answer.status == 403, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "Demeter" not in str(answer.body)
    assert DEMETER not in str(answer.body)


def test_only_the_guest_whose_verified_email_it_has_answers_and_reads_an_invitation(tmp_path: Path) -> None:
    with running_stack(tmp_path / "stack.log", guest_limit=2) as stack:
        demeters, other = str(uuid.uuid4()), str(uuid.uuid4())
        assert stack.command("CreateInvite", id=demeters, name="Demeter", email=DEMETER).status == 200
        assert stack.command("CreateInvite", id=other, name="Hades", email=HADES).status == 200
        owner, stranger = guest(stack, " Demeter@Olympus.example"), guest(stack, HADES)
        unverified = guest(stack, DEMETER, verified=False)

        # Another guest's token, and the owner's address unverified: refused every way, nothing written.
        for intruder in (stranger, unverified):
            refused(intruder.command("AcceptInvite", id=demeters))
            refused(intruder.command("DeclineInvite", id=demeters))
            refused(intruder.get(f"/invitations/{demeters}"))
        # The owner's token answers and reads that invitation, and no other, nor anything else.
        accepted = owner.command("AcceptInvite", id=demeters)
        assert accepted.status == 200, accepted.body
        assert accepted.body["events"] == [{"type": "InviteAccepted", "version": 2}]
        view = owner.get(f"/invitations/{demeters}?min_version=2")
        assert (view.status, view.body["name"], view.body["version"]) == (200, "Demeter", 2)
        refused(owner.command("DeclineInvite", id=other))
        for target in (f"/invitations/{other}", "/invitations", "/guestlist", f"/aggregates/Invitation/{demeters}"):
            refused(owner.get(target))
        refused(owner.get(f"/aggregates/Invitation/{demeters}/events"))

        # Once forgotten, the invitation has no e-mail: its former owner owns it no more.
        assert stack.command("ForgetInvitee", id=demeters).status == 200
        refused(owner.command("DeclineInvite", id=demeters))
        refused(owner.get(f"/invitations/{demeters}"))
        # Hosts keep every right.
        assert stack.get(f"/invitations/{demeters}").status == 200
        assert stack.command("DeclineInvite", id=other).status == 200
