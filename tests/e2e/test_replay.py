"""Rebuild, republish and re-drive with `horizon` against the local stack, read back over HTTP.

The stack composes its functions from tests/e2e/poisoned_domain.py (HORIZON_LOCAL_DOMAIN): the guest list's
projector fails on the invitations listed in a poison file, and gives up on a record after one redelivery
(LOCAL_STREAM_RETRIES), so a dead letter takes a fraction of a second. The CLI is today's code: the fix.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from click.testing import CliRunner, Result

from horizon.cli.app import cli
from tests.e2e.client import Client
from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.poisoned_domain import POISON_FILE

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]


@dataclass
class Replay:
    stack: LocalStack
    client: Client
    poison: Path

    def horizon(self, *args: str) -> Result:
        """The CLI against this stack's data plane, as `horizon --endpoint-url` would run it."""
        return CliRunner().invoke(cli, ["--endpoint-url", self.stack.data_url, *args])

    def invite(self, name: str = "Guest") -> UUID:
        """A new invitation, accepted; the saga confirms it (the limit is high)."""
        invite_id = uuid4()
        assert self.client.command("CreateInvite", id=str(invite_id), name=name).status == 200
        assert self.client.command("AcceptInvite", id=str(invite_id)).status == 200
        return invite_id

    def guest_list(self) -> dict[str, int]:
        answer = self.client.get("/guestlist")
        assert answer.status == 200
        return dict(answer.body)

    def settled(self, guests: int, confirmed: int) -> dict[str, int]:
        """Wait until the guest list counts `guests` answers and `confirmed` confirmations."""

        def counted() -> dict[str, int] | None:
            counters = self.guest_list()
            return counters if (counters["num_guests"], counters["num_confirmed"]) == (guests, confirmed) else None

        return self.client.wait_for(counted, f"{guests} guests, {confirmed} confirmed")

    def dead_letters(self, failing: set[int], harmless: set[int]) -> list[dict[str, Any]]:
        """Wait until `horizon dead-letters --json` covers the `failing` versions of some aggregate; the letters.

        A letter points to one given-up stream record, one commit. How many commits a letter's failure drags in
        depends on how the poller batched them: a `harmless` commit that the projector would have passed alone
        is a letter too when it shared a batch with a failing commit of its aggregate (the aggregate's group
        fails from its first record), and is not when it came alone. So `failing` must be covered, `harmless`
        may be, and nothing else. Letters arrive in stream order, so the last failing one comes last.
        """

        def covered() -> list[dict[str, Any]] | None:
            letters = [json.loads(line) for line in self.horizon("dead-letters", "--json").output.splitlines()]
            seen = {v for letter in letters for c in letter["commits"] for v in range(c["first"], c["last"] + 1)}
            return letters if failing <= seen <= failing | harmless else None

        return self.client.wait_for(covered, f"dead letters covering versions {sorted(failing)}")


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    directory = tmp_path_factory.mktemp("replay")
    poison = directory / "poison"
    env = {"HORIZON_LOCAL_DOMAIN": "tests.e2e.poisoned_domain", POISON_FILE: str(poison), "LOCAL_STREAM_RETRIES": "1"}
    with local_stack(directory, guest_limit=1000, **env) as stack:
        yield Replay(stack, stack.client, poison)


def test_readers_querying_over_http_throughout_a_rebuild_never_see_a_half_built_guest_list(replay: Replay) -> None:
    start = replay.guest_list()
    before = start["num_guests"] + 10
    for index in range(10):
        replay.invite(f"Guest {index}")
    expected = replay.settled(before, start["num_confirmed"] + 10)
    seen: list[int] = []
    done = threading.Event()

    def query() -> None:
        while not done.is_set():
            seen.append(replay.guest_list()["num_guests"])

    reader = threading.Thread(target=query)
    reader.start()
    try:
        rebuilt = replay.horizon("rebuild", "GuestList", "--segments", "2", "--grace", "0.5")
    finally:
        done.set()
        reader.join()

    assert (rebuilt.exit_code, rebuilt.output) == (0, "GuestList: generation 1 is live\n")
    assert len(seen) > 5
    assert set(seen) == {before}  # every answer, before, during and after the switch, is the whole model
    assert replay.guest_list() == expected


def test_republish_restores_a_lost_read_model_and_a_second_run_offers_nothing(replay: Replay) -> None:
    from horizon.cli.target import Connection, Target
    from horizon.readstore import Write

    invite_id = replay.invite("Ariadne")
    view = replay.client.wait_for(
        lambda: (a := replay.client.get(f"/invitations/{invite_id}?min_version=3")).body.get("version") == 3 and a,
        "the confirmed invitation",
    ).body
    # A bug lost the read model: its document (with the projector's position beside it) is gone.
    reads = Connection(Target.resolve({}, endpoint_url=replay.stack.data_url)).reads
    document = reads.get("Invitation", str(invite_id))
    assert document is not None
    reads.commit([Write("Invitation", str(invite_id), None, document.revision)])
    assert replay.client.get(f"/invitations/{invite_id}").status == 404

    first = replay.horizon("republish", "Invitation", "--type", "Invitation", "--id", str(invite_id))
    second = replay.horizon("republish", "Invitation", "--type", "Invitation", "--id", str(invite_id))

    assert (first.exit_code, first.output) == (0, "Invitation: 1 aggregates, 3 events offered, 0 failed\n")
    assert second.output == "Invitation: 1 aggregates, 0 events offered, 0 failed\n"
    assert replay.client.get(f"/invitations/{invite_id}").body == view


def test_a_poison_commit_is_dead_lettered_alone_and_redrive_heals_it_after_the_fix(replay: Replay) -> None:
    counters = replay.guest_list()  # the tests before this one waited for their own answers: settled
    poisoned = uuid4()
    replay.poison.write_text(f"{poisoned}\n")
    try:
        # GIVEN a poisoned invitation's answers, and a healthy one's after it
        assert replay.client.command("CreateInvite", id=str(poisoned), name="Icarus").status == 200
        assert replay.client.command("AcceptInvite", id=str(poisoned)).status == 200
        replay.invite("Daedalus")

        def answered() -> bool | None:  # the saga's answer: a third commit the projector fails on too
            events = replay.client.get(f"/aggregates/Invitation/{poisoned}/events").body["events"]
            return len(events) == 3 or None

        # Waiting for it before the fix: a commit still being retried at the fix would not be a letter.
        replay.client.wait_for(answered, "the saga's answer to the poisoned invitation")
        # THEN the healthy one is counted, and the poisoned one's answers are dead letters (its creation, which
        # the guest list does not count, only if it came in one batch with the acceptance)
        replay.settled(counters["num_guests"] + 1, counters["num_confirmed"] + 1)
        letters = replay.dead_letters(failing={2, 3}, harmless={1})
        assert {(letter["consumer"], c["aggregate_id"]) for letter in letters for c in letter["commits"]} == {
            ("projector", str(poisoned))
        }
    finally:
        replay.poison.unlink()  # the fix
    # WHEN the operator re-drives
    healed = replay.horizon("redrive")

    # THEN the poisoned invitation is counted once, and nothing is left to re-drive
    assert (healed.exit_code, healed.output) == (0, f"redrive: {len(letters)} healed, 0 kept\n")
    assert replay.settled(counters["num_guests"] + 2, counters["num_confirmed"] + 2)
    assert replay.horizon("dead-letters").output == ""
