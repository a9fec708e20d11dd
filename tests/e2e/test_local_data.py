"""The local stack keeps its data: across a restart, through a crash, open to AWS tools, and across a reload."""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest

from tests.e2e.client import Client
from tests.e2e.conftest import LocalStack, local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]


def projected(client: Client, invite: str, version: int) -> dict[str, object]:
    """The invitation's view once it reaches `version`."""

    def probe() -> dict[str, object] | None:
        answer = client.get(f"/invitations/{invite}?min_version={version}")
        return answer.body if answer.status == 200 and answer.body["version"] >= version else None

    return client.wait_for(probe, f"invitation {invite} at version {version}")


def consumed_records(log: str, consumer: str) -> int:
    return sum(int(n) for n in re.findall(rf"horizon\.local\.poller: {consumer}: (\d+) records", log))


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_restart_keeps_tables_read_models_and_stream_positions(tmp_path: Path, how: signal.Signals) -> None:
    stack = LocalStack(tmp_path / "stack.log", tmp_path / "data", {"GUEST_LIMIT": "2"})
    client = stack.start()
    invite = str(uuid.uuid4())
    assert client.command("CreateInvite", id=invite, name="Athena", email="athena@olympus.example").status == 200
    assert client.command("AcceptInvite", id=invite).status == 200
    assert projected(client, invite, 3)["status"] == "confirmed"  # the saga's confirmation, projected
    stack.stop(how)
    before = stack.log.read_text()

    client = stack.start()
    try:
        assert client.get(f"/invitations/{invite}").body["status"] == "confirmed"
        assert [e["type"] for e in client.get(f"/aggregates/Invitation/{invite}/events").body["events"]] == [
            "InviteCreated",
            "InviteAccepted",
            "InviteConfirmed",
        ]
        assert client.get("/guestlist").body["num_confirmed"] == 1
        # the claims' key survived too: the e-mail is still taken
        taken = client.command("CreateInvite", id=str(uuid.uuid4()), name="Impostor", email="athena@olympus.example")
        assert taken.status == 409
        # WHEN a new invite arrives after the restart
        second = str(uuid.uuid4())
        assert client.command("CreateInvite", id=second, name="Hades").status == 200
        projected(client, second, 1)

        # THEN the consumers resume from their checkpoints: only the new commit is delivered again
        def delivered() -> int:  # the batch line is written just after the read model is
            return consumed_records(stack.log.read_text()[len(before) :], "projector")

        assert client.wait_for(delivered, "the projector's batch line") == 1
    finally:
        stack.stop()


@pytest.mark.parametrize("snapshot_seconds", ["1", "3600"], ids=["snapshots", "journal-only"])
def test_a_crash_loses_no_acknowledged_write_and_never_leaves_read_models_ahead(
    tmp_path: Path, snapshot_seconds: str
) -> None:
    env = {"GUEST_LIMIT": "100", "SNAPSHOT_SECONDS": snapshot_seconds}
    stack = LocalStack(tmp_path / "stack.log", tmp_path / "data", env)
    client = stack.start()
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                invite = str(uuid.uuid4())
                if client.command("CreateInvite", id=invite, name="Guest").status == 200:
                    acknowledged.append((time.monotonic(), invite))
                    client.command("AcceptInvite", id=invite)
        except OSError:
            pass  # the stack was killed under this request

    writer = threading.Thread(target=keep_writing)
    writer.start()
    time.sleep(4)
    stack.stop(signal.SIGKILL)
    stop.set()
    writer.join()

    client = stack.start()
    try:
        assert len(acknowledged) >= 3, "too few commands before the crash to judge"
        for _, invite in acknowledged:
            events = client.get(f"/aggregates/Invitation/{invite}/events")
            assert events.status == 200, f"{invite} was acknowledged before the crash, and lost"
        for _, invite in acknowledged:
            history = client.get(f"/aggregates/Invitation/{invite}/events")
            view = client.get(f"/invitations/{invite}")
            stored = len(history.body["events"]) if history.status == 200 else 0
            shown = view.body["version"] if view.status == 200 else 0
            assert shown <= stored, f"the read model of {invite} is at {shown}, ahead of its {stored} events"
    finally:
        stack.stop()


def test_aws_tools_see_the_tables_the_api_writes_at_the_printed_endpoint(tmp_path: Path) -> None:
    with local_stack(tmp_path) as stack:
        invite = str(uuid.uuid4())
        assert stack.client.command("CreateInvite", id=invite, name="Zeus").status == 200
        assert f"aws dynamodb scan --table-name horizon-events --endpoint-url {stack.data_url}" in stack.log.read_text()
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=stack.data_url,
            region_name="us-east-1",
            aws_access_key_id="any",
            aws_secret_access_key="any",
        )
        assert {"horizon-events", "horizon-read"} <= set(dynamodb.list_tables()["TableNames"])
        items = dynamodb.scan(TableName="horizon-events")["Items"]
        assert any(invite in item["pk"]["S"] for item in items)


def test_a_code_change_restarts_the_functions_and_keeps_the_data(tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    with local_stack(tmp_path, RELOAD="1", RELOAD_DIRS=str(watched)) as stack:
        invite = str(uuid.uuid4())
        assert stack.client.command("CreateInvite", id=invite, name="Poseidon").status == 200
        time.sleep(1)  # the watcher is running once the stack answers; give it a moment to settle
        (watched / "changed.py").write_text("CHANGED = True\n")
        stack.client.wait_for(
            lambda: stack.log.read_text().count("functions ready on") >= 2 and stack.client.is_up(),
            "the functions to restart",
        )
        assert "reloading the functions: changed.py changed" in stack.log.read_text()
        assert stack.client.get(f"/aggregates/Invitation/{invite}/events").status == 200
        assert projected(stack.client, invite, 1)["name"] == "Poseidon"
