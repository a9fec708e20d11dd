"""The local stack mirrors the fan-out: two stream readers, the saga reacting from its own FIFO queue."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from horizon.local.checkpoints import CHECKPOINTS_TABLE
from horizon.local.fanout import dead_letter_queue_name, queue_name
from tests.e2e.conftest import ROOT, local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]


def client_of(service: str, endpoint: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="any", aws_secret_access_key="any"
    )


def test_the_saga_reacts_from_its_queue_and_the_stream_has_two_readers(tmp_path: Path) -> None:
    with local_stack(tmp_path) as stack:
        client, invite = stack.client, str(uuid.uuid4())
        assert client.command("CreateInvite", id=invite, name="Athena").status == 200
        assert client.command("AcceptInvite", id=invite).status == 200

        def confirmed() -> bool | None:
            answer = client.get(f"/invitations/{invite}?min_version=3")
            return (answer.status == 200 and answer.body["status"] == "confirmed") or None

        client.wait_for(confirmed, "the saga's confirmation, projected")
        events = client.get(f"/aggregates/Invitation/{invite}/events").body["events"]
        assert events[2]["type"] == "InviteConfirmed"
        assert "ResponseSaga" in str(events[2]["metadata"]["actor"])  # decided by the saga, not a client

        dynamodb = client_of("dynamodb", stack.data_url)
        readers = {item["consumer"]["S"] for item in dynamodb.scan(TableName=CHECKPOINTS_TABLE)["Items"]}
        assert readers == {"projector", "fanout"}
        sqs = client_of("sqs", stack.data_url)
        url = sqs.get_queue_url(QueueName=queue_name("Saga"))["QueueUrl"]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "0"  # every commit consumed and deleted
        assert counts["FifoQueue"] == "true"
        # The dispatcher sends straight to the queue: the data plane holds no topic.
        assert client_of("sns", stack.data_url).list_topics()["Topics"] == []

        env = {**os.environ, "DYNAMODB_PORT": str(stack.data_port)}
        listed = subprocess.run(
            [sys.executable, "-m", "functions.local", "--dead-letters"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "0 dead letters" in listed.stdout
        assert sqs.get_queue_url(QueueName=dead_letter_queue_name("Saga"))["QueueUrl"]
