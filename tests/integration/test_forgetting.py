"""The right to be forgotten, end to end on moto: HTTP commands, stream consumers, every table and every log."""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import uuid4

import boto3
import pytest

from functions import projector, saga
from horizon.dynamodb.streams import is_commit_record
from horizon.local.poller import StreamPoller, Subscription
from horizon.privacy.marking import REDACTED
from horizon.retry import RetryPolicy

from .http_support import EVENTS_TABLE, READ_TABLE, Stack, assert_problem, call, command, stack

__all__ = ["stack"]

NAME, EMAIL = "Hermes Trismegistus", "hermes@olympus.example"


def drain(poller: StreamPoller) -> None:
    """Deliver every record written so far to the projector and the saga (and what they caused)."""
    while poller.poll_once() or any(s.pending for s in poller.subscriptions):
        pass


@pytest.fixture
def poller(stack: Stack) -> StreamPoller:
    arn = stack.client.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"]
    subscriptions = [
        Subscription("projector", projector.handler, accepts=is_commit_record),
        Subscription("saga", saga.handler, accepts=is_commit_record),
    ]
    retry = RetryPolicy(attempts=10, base_seconds=0, cap_seconds=0)
    return StreamPoller(boto3.client("dynamodbstreams"), arn, subscriptions, retry=retry)


def every_item(stack: Stack) -> str:
    tables = [EVENTS_TABLE, READ_TABLE, stack.container.settings.keys_table]
    return json.dumps([stack.client.scan(TableName=table)["Items"] for table in tables], default=str)


def test_after_forgetting_no_table_and_no_log_holds_the_name_or_e_mail(
    stack: Stack, poller: StreamPoller, caplog: pytest.LogCaptureFixture
) -> None:
    # The production level: DEBUG logs of botocore and the Powertools router dump payloads (docs/privacy.md).
    caplog.set_level(logging.INFO)
    # GIVEN Hermes, invited with his e-mail, accepted and confirmed, beside another guest
    hermes, other = uuid4(), uuid4()
    assert command("CreateInvite", {"id": str(hermes), "name": NAME, "age": 40, "email": EMAIL}).status == 200
    assert command("CreateInvite", {"id": str(other), "name": "Ares", "email": "ares@olympus.example"}).status == 200
    assert command("AcceptInvite", {"id": str(hermes)}).status == 200
    drain(poller)
    assert call("GET", f"/invitations/{hermes}").json["status"] == "confirmed"
    counters = call("GET", "/guestlist").json
    assert NAME in every_item(stack)  # the read model holds the name until the forget is projected

    # WHEN a host forgets him and the consumers catch up
    forgotten = command("ForgetInvitee", {"id": str(hermes)})
    assert forgotten.status == 200, forgotten.raw
    drain(poller)

    # THEN no table holds his name or e-mail in clear, and neither does any log line of the whole run
    items = every_item(stack)
    assert NAME not in items
    assert EMAIL not in items
    assert NAME not in caplog.text
    assert EMAIL not in caplog.text
    # the history still loads, redacted, and the invitation still answers
    history = call("GET", f"/aggregates/Invitation/{hermes}/events").json["events"]
    assert history[0]["data"] == {"name": REDACTED, "age": None, "email": None}
    assert [e["type"] for e in history][-1] == "InviteeForgotten"
    view = call("GET", f"/invitations/{hermes}").json
    assert (view["name"], view["age"], view["status"]) == (REDACTED, None, "confirmed")
    assert call("GET", "/guestlist").json == counters
    # and a new invitation may use the released e-mail
    again = command("CreateInvite", {"id": str(uuid4()), "name": "Hermes, again", "email": EMAIL})
    assert again.status == 200, again.raw


def test_a_second_invitation_with_a_taken_e_mail_is_a_409_that_echoes_nothing(stack: Stack) -> None:
    first = uuid4()
    assert command("CreateInvite", {"id": str(first), "name": NAME, "email": EMAIL}).status == 200

    answer = command("CreateInvite", {"id": str(uuid4()), "name": "Impostor", "email": " HERMES@olympus.example"})

    problem = assert_problem(answer, 409)
    assert "e-mail is taken" in problem["detail"]
    assert EMAIL not in answer.raw.decode()
    assert str(first) not in answer.raw.decode()
    assert NAME not in answer.raw.decode()


def test_the_claim_item_holds_a_keyed_hash_and_calving_keeps_it_held(stack: Stack) -> None:
    invite = uuid4()
    assert command("CreateInvite", {"id": str(invite), "name": NAME, "email": EMAIL}).status == 200
    for reason in ("a", "b") * 30:  # many commits, so the tip calves its pending events
        command("DeclineInvite", {"id": str(invite), "reason": reason})
    claims: list[Any] = [
        item for item in stack.client.scan(TableName=EVENTS_TABLE)["Items"] if str(item["pk"]["S"]).startswith("claim#")
    ]
    assert len(claims) == 1
    assert EMAIL not in json.dumps(claims)
    # forgetting after calving still finds and releases the claim
    assert command("ForgetInvitee", {"id": str(invite)}).status == 200
    assert not [i for i in stack.client.scan(TableName=EVENTS_TABLE)["Items"] if str(i["pk"]["S"]).startswith("claim#")]
