"""Logs at DEBUG: a whole create → accept → forget run on moto logs no name, no e-mail and no data key in clear."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from uuid import uuid4

import boto3
import pytest

from functions import command_api, projector, query_api, saga
from functions.observability import FRAMEWORK_LOGGERS
from horizon.dynamodb.branch_keys import is_branch, unwrap
from horizon.dynamodb.streams import is_commit_record
from horizon.local.poller import StreamPoller, Subscription
from horizon.retry import RetryPolicy

from .http_support import EVENTS_TABLE, GUEST_EMAIL, OWNER_CLAIMS, Stack, call, command, stack

__all__ = ["stack"]

NAME = "Persephone Kore"
FUNCTIONS = (command_api, query_api, projector, saga)


class Recorder(logging.Handler):
    """Every record that reaches it, rendered as a log line would be, with its arguments and its exception."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(
            f"{record.levelname} {record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}"
        )

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def debug_logs(stack: Stack) -> Iterator[Recorder]:
    """LOG_LEVEL=DEBUG for every function, and a DEBUG root (Lambda's log level set to DEBUG), all recorded."""
    recorder = Recorder()
    root, saved_root = logging.getLogger(), logging.getLogger().level
    loggers = [root, *(logging.getLogger(name) for name in FRAMEWORK_LOGGERS)]
    loggers += [logging.getLogger(module.observed.logger.service) for module in FUNCTIONS]
    saved = [module.observed.logger.log_level for module in FUNCTIONS]
    for module in FUNCTIONS:
        module.observed.logger.setLevel("DEBUG")
    root.setLevel(logging.DEBUG)
    for logger in loggers:
        logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        for logger in loggers:
            logger.removeHandler(recorder)
        root.setLevel(saved_root)
        for module, level in zip(FUNCTIONS, saved, strict=True):
            module.observed.logger.setLevel(level)


def drain(stack: Stack) -> None:
    arn = stack.client.describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"]
    subscriptions = [
        Subscription("projector", projector.handler, accepts=is_commit_record),
        Subscription("saga", saga.handler, accepts=is_commit_record),
    ]
    retry = RetryPolicy(attempts=10, base_seconds=0, cap_seconds=0)
    poller = StreamPoller(boto3.client("dynamodbstreams"), arn, subscriptions, retry=retry)
    while poller.poll_once() or any(s.pending for s in poller.subscriptions):
        pass


def data_keys(stack: Stack) -> list[bytes]:
    """Every live key in clear, branch keys and data keys, unwrapped here (with no log recording) to know what
    must never be logged."""
    settings, kms = stack.container.settings, boto3.client("kms")
    items = stack.client.scan(TableName=settings.keys_table)["Items"]
    branches = {
        item["pk"]["S"]: kms.decrypt(
            CiphertextBlob=item["wrapped"]["B"], EncryptionContext={"branch": item["pk"]["S"]}
        )["Plaintext"]
        for item in items
        if is_branch(dict(item))
    }
    subjects = [
        unwrap(branches[item["branch"]["S"]], item["pk"]["S"], item["wrapped"]["B"])
        for item in items
        if "wrapped" in item and not is_branch(dict(item))
    ]
    return [*branches.values(), *subjects]


def test_a_create_accept_forget_run_at_debug_logs_no_personal_data_and_no_data_key(
    stack: Stack, debug_logs: Recorder
) -> None:
    invite_id = uuid4()
    created = command("CreateInvite", {"id": str(invite_id), "name": NAME, "age": 30, "email": GUEST_EMAIL})
    assert created.status == 200, created.raw
    assert command("AcceptInvite", {"id": str(invite_id)}, claims=OWNER_CLAIMS).status == 200
    drain(stack)
    assert call("GET", f"/invitations/{invite_id}", claims=OWNER_CLAIMS).json["name"] == NAME
    assert call("GET", f"/aggregates/Invitation/{invite_id}").json["state"]["name"] == NAME
    keys = data_keys(stack)
    assert len(keys) == 2  # this month's branch key, and the invitation's data key under it
    assert command("ForgetInvitee", {"id": str(invite_id)}).status == 200
    drain(stack)

    # DEBUG really was on: the framework logged each commit at DEBUG (and the local poller each batch)
    assert len([line for line in debug_logs.lines if line.startswith("DEBUG horizon.command_handler")]) == 4
    logged = debug_logs.text
    for key in keys:
        for secret in (base64.b64encode(key).decode(), key.hex(), repr(key)):
            assert secret not in logged
    for secret in (NAME, GUEST_EMAIL):
        assert secret not in logged
