"""Least privilege by the letter: what each function's code asks of AWS, recorded on moto, is exactly its grants.

One story runs every function through its paths, each function in its own container (as each Lambda has its
own), whose clients record every request as the IAM actions it needs (tests/aws_calls.py). The recorded
actions must equal `infra.permissions.CODE` for that function, no more and no less; tests/infra/
test_least_privilege.py holds the template to the same table. A new function is one entry in `HANDLERS` and a
step of the story that invokes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any
from uuid import UUID, uuid4

import boto3
import pytest
from moto import mock_aws

from domain.guest_list import GuestListProjector
from domain.response_saga import ResponseSaga
from functions import catch_up, command_api, composition, fanout, projector, query_api, saga, subscriptions
from functions.routes import function_for
from horizon.dynamodb.datakeys import create_local_keys
from horizon.dynamodb.layout import stream_key
from horizon.dynamodb.streams import is_commit_record
from horizon.dynamodb.tables import create_tables
from horizon.local.apigw import from_result, to_event
from horizon.local.fake_aws import FAKE_AWS_ENV, REAL_AWS_VARIABLES
from horizon.local.fanout import LocalFanout
from horizon.local.lambda_context import LocalContext
from horizon.local.moto_patches import patch_moto
from horizon.local.poller import StreamPoller, Subscription
from horizon.retry import RetryPolicy
from horizon.secrets import create_local_secret
from infra.permissions import CODE, Resource
from tests.aws_calls import CallRecorder

from .http_support import GUEST_EMAIL, HOST_CLAIMS, OWNER_CLAIMS, Answer, authorized

Handler = Callable[[dict[str, Any], Any], Any]

HANDLERS: dict[str, Handler] = {
    "Command": command_api.handler,
    "Query": query_api.handler,
    "Projector": projector.handler,
    "Saga": saga.handler,
    "CatchUp": catch_up.handler,
    "Fanout": fanout.handler,
}
"""infra/functions.py's function names → the Lambda handler each runs."""

EVENTS_TABLE, READ_TABLE = "lp-events", "lp-read"


@dataclass
class Deployment:
    """Every function with a container of its own, recording; the stream delivered as Lambda would."""

    settings: composition.Settings
    recorders: dict[str, CallRecorder] = field(default_factory=dict)
    containers: dict[str, composition.Container] = field(default_factory=dict)
    missed: dict[str, set[str]] = field(default_factory=lambda: {"Projector": set(), "Saga": set(), "Fanout": set()})
    """Per stream consumer, aggregates (stream keys) whose commits it does not get: records that expired. The saga
    gets the stream's records directly here (its handler takes both shapes); the fan-out publishes them too, so
    its one call is recorded."""

    def __post_init__(self) -> None:
        tables = {EVENTS_TABLE: Resource.EVENTS, READ_TABLE: Resource.READ, self.settings.keys_table: Resource.KEYS}
        for name in HANDLERS:
            self.recorders[name] = CallRecorder(tables, Resource.DATA_KEY_WRAPPER)
            self.cold_start(name)
        arn = boto3.client("dynamodb").describe_table(TableName=EVENTS_TABLE)["Table"]["LatestStreamArn"]
        subscriptions = [self._subscription(name) for name in self.missed]
        retry = RetryPolicy(attempts=3, base_seconds=0, cap_seconds=0)
        self.poller = StreamPoller(boto3.client("dynamodbstreams"), arn, subscriptions, retry=retry)

    def cold_start(self, function: str) -> None:
        """A new container for `function` (same recorder): nothing cached, no data key in memory."""
        recorder = self.recorders[function]
        clients = recorder.attach(boto3.client("dynamodb")), recorder.attach(boto3.client("kms"))
        secrets = recorder.attach(boto3.client("secretsmanager"))
        self.containers[function] = container = composition.Container(self.settings, *clients, secrets=secrets)
        container.sqs = recorder.attach(boto3.client("sqs"))

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Run `function`'s handler on `event` with its own container, as its Lambda would."""
        composition.use(self.containers[function])
        try:
            return HANDLERS[function](event, LocalContext(function))
        finally:
            composition.use(None)

    def http(
        self,
        method: str,
        target: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        claims: Mapping[str, str] = HOST_CLAIMS,
    ) -> Answer:
        """One request (as a host unless `claims` say otherwise), to the function the HTTP API routes it to."""
        raw = b"" if body is None else json.dumps(body).encode()
        sent = {"content-type": "application/json", **(headers or {})} if raw else dict(headers or {})
        event = authorized(to_event(method, target, sent, raw, "127.0.0.1"), claims)
        function = "Command" if function_for(method, event["rawPath"]) == "command-api" else "Query"
        return Answer(*from_result(self.invoke(function, event)))

    def command(self, name: str, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Answer:
        return self.http("POST", f"/commands/{name}", body, headers)

    def drain(self) -> None:
        """Deliver every commit so far to the stream consumers, and what their reactions caused."""
        while self.poller.poll_once() or any(s.pending for s in self.poller.subscriptions):
            pass

    def _subscription(self, function: str) -> Subscription:
        def accepts(record: dict[str, Any]) -> bool:
            return is_commit_record(record) and record["dynamodb"]["Keys"]["pk"]["S"] not in self.missed[function]

        return Subscription(function, lambda event, _: self.invoke(function, event), accepts=accepts)


def key(invite_id: UUID) -> str:
    return stream_key("Invitation", invite_id)


def ok(answer: Answer) -> Answer:
    assert answer.status == 200, answer.raw
    return answer


def story(deployment: Deployment) -> None:
    """Every path of every function, on a guest list with a limit of two."""
    ada, bob, carol, dan, erin = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
    once = {"Idempotency-Key": "ada-create"}
    ada_create = {"id": str(ada), "name": "Ada", "age": 36, "email": "ada@example.com"}
    # Commands: a create that claims an e-mail and seals personal data, its idempotent retry, one without e-mail
    ok(deployment.command("CreateInvite", ada_create, once))
    ok(deployment.command("CreateInvite", ada_create, once))
    ok(deployment.command("CreateInvite", {"id": str(bob), "name": "Bob"}))
    ok(deployment.command("AcceptInvite", {"id": str(ada)}))
    ok(deployment.command("AcceptInvite", {"id": str(bob)}))
    assert deployment.command("DeclineInvite", {"id": str(ada)}).status == 409
    # The projector misses Ada's commits until she is forgotten: it repairs the gap from calved history then.
    deployment.missed["Projector"].add(key(ada))
    deployment.drain()  # the saga confirms Ada and Bob
    # The command function's cached Bob is at v2, the saga wrote v3: the forget loses the race and decides again.
    ok(deployment.command("ForgetInvitee", {"id": str(bob)}))
    # Forgetting Ada releases her e-mail claim (a transaction that calves her history) and shreds her key.
    ok(deployment.command("ForgetInvitee", {"id": str(ada)}))
    # The retry's answer is now in a calved batch: read back from the events table.
    ok(deployment.command("CreateInvite", ada_create, once))
    deployment.missed["Projector"].clear()
    # The saga misses Carol's acceptance until her forget (and its calving); then it repairs and answers her.
    deployment.missed["Saga"].add(key(carol))
    ok(deployment.command("CreateInvite", {"id": str(carol), "name": "Carol", "email": "carol@example.com"}))
    ok(deployment.command("AcceptInvite", {"id": str(carol)}))
    deployment.drain()
    deployment.missed["Saga"].clear()
    ok(deployment.command("ForgetInvitee", {"id": str(carol)}))
    # Dan's and Erin's acceptances never reach the saga: only its catch-up answers them (Erin is forgotten first).
    deployment.missed["Saga"] |= {key(dan), key(erin)}
    for guest in (dan, erin):
        ok(deployment.command("CreateInvite", {"id": str(guest), "name": "Guest", "age": 30}))
    deployment.cold_start("Command")  # a new container opens what the last one sealed
    for guest in (dan, erin):
        ok(deployment.command("AcceptInvite", {"id": str(guest)}))
    ok(deployment.command("ForgetInvitee", {"id": str(erin)}))
    deployment.drain()

    # Queries: every route, on a forgotten (and calved) history and on one still sealed
    for target in (
        "/invitations?limit=2",
        f"/invitations/{ada}?min_version=1",
        f"/invitations/{uuid4()}",
        "/guestlist",
        f"/aggregates/Invitation/{ada}",
        f"/aggregates/Invitation/{ada}?version=1",
        f"/aggregates/Invitation/{ada}/events?limit=2",
        f"/aggregates/Invitation/{dan}/events",
        "/health",
        "/openapi.json",
        "/docs",
        "/",
    ):
        answer = deployment.http("GET", target)
        assert answer.status in (200, 307, 404), (target, answer.raw)
    # A guest reads their own invitation: the query function judges ownership on the head, read with its key
    fay = uuid4()
    ok(deployment.command("CreateInvite", {"id": str(fay), "name": "Fay", "email": GUEST_EMAIL}))
    deployment.drain()
    ok(deployment.http("GET", f"/invitations/{fay}", claims=OWNER_CLAIMS))

    # Catch-up, as the state machine runs it: a whole rebuild of the guest list over two segments (open, purge
    # leftovers, build, switch, purge the old generation), and the saga's republish.
    rebuilt = GuestListProjector.name
    opened = deployment.invoke("CatchUp", {"action": "open", "consumer": rebuilt})
    building = {"consumer": rebuilt, "generation": opened["generation"]}
    deployment.invoke("CatchUp", {"action": "purge", **building})
    for segment in range(2):
        deployment.invoke("CatchUp", {"action": "segment", "segment": segment, "total": 2, **building})
    deployment.invoke(
        "CatchUp", {"action": "switch", "live": opened["live"], "revision": opened["revision"], **building}
    )
    while deployment.invoke("CatchUp", {"action": "purge", "consumer": rebuilt, "generation": opened["live"]})["more"]:
        pass
    for segment in range(2):
        republish = {"consumer": ResponseSaga.name, "segment": segment, "total": 2, "generation": None}
        deployment.invoke("CatchUp", republish)
    deployment.drain()
    for guest in (dan, erin):
        assert ok(deployment.http("GET", f"/invitations/{guest}")).json["status"] in ("confirmed", "denied")


@pytest.fixture(scope="module")
def recorded() -> Iterator[dict[str, CallRecorder]]:
    """The story, once, on fresh moto tables: each function's recorder."""
    with pytest.MonkeyPatch.context() as patch, ExitStack() as stack:
        for name, value in FAKE_AWS_ENV.items():
            patch.setenv(name, value)
        for name in REAL_AWS_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("EVENTS_TABLE", EVENTS_TABLE)
        patch.setenv("READ_TABLE", READ_TABLE)
        patch.setenv("GUEST_LIMIT", "2")
        patch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
        patch_moto()
        stack.enter_context(mock_aws())
        client = boto3.client("dynamodb")
        create_tables(client, EVENTS_TABLE, READ_TABLE)
        settings = composition.Settings.from_env()
        create_local_keys(client, boto3.client("kms"), settings.keys_table, settings.kms_key_id)
        create_local_secret(boto3.client("secretsmanager"), settings.claims_secret_id)
        # The queued consumers' queues, named in the dispatcher's environment as the stack names them.
        queues = LocalFanout(boto3.client("sqs"))
        queued = {name: subscriptions.reacts_to(name, settings.guest_limit) for name in subscriptions.QUEUED}
        queues.create(queued)
        for name, value in queues.environment(queued).items():
            patch.setenv(name, value)
        settings = composition.Settings.from_env()
        deployment = Deployment(settings)
        story(deployment)
        yield deployment.recorders


@pytest.mark.parametrize("function", sorted(CODE))
def test_each_function_calls_exactly_the_actions_its_role_grants(
    recorded: dict[str, CallRecorder], function: str
) -> None:
    granted = {(grant.action, grant.resource) for grant in CODE[function]}
    called = recorded[function].actions()
    assert {"granted, never called": granted - called, "called, not granted": called - granted} == {
        "granted, never called": set(),
        "called, not granted": set(),
    }


@pytest.mark.parametrize("function", sorted(CODE))
def test_a_grant_limited_to_some_partitions_is_used_on_those_partitions_only(
    recorded: dict[str, CallRecorder], function: str
) -> None:
    for grant in CODE[function]:
        if grant.partitions:
            touched = recorded[function].partitions(grant.action, grant.resource)
            assert touched
            outside = {p for p in touched if p is None or not any(fnmatch(p, pattern) for pattern in grant.partitions)}
            assert outside == set(), f"{function} {grant.action} on {grant.resource}"


def test_every_function_in_the_permission_table_has_a_handler_in_the_story() -> None:
    assert set(HANDLERS) == set(CODE)
