"""Cold start, honestly: a fresh interpreter that imports a function, builds its client and answers its first
event against a DynamoDB endpoint, against the floor of one that imports boto3, builds a client and makes one
GetItem on the same endpoint (a moto server on a free local port, started here). Each sample does the whole of
its work: a consumer is handed both commits of an invitation it has not seen, the saga confirms (its guest limit
is set high), the query finds the view it reads.

And a model of a SnapStart restore (`RESTORE_MODEL`): the same function primed by its before-snapshot hooks, then
forked; the child, standing in for a restored environment, runs the after-restore hooks and answers. It measures
what our code still pays after a restore; Lambda's own restore latency is not in it (docs/cold-start.md)."""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import json, os, sys, time
from horizon.local.apigw import to_event
from horizon.local.lambda_context import LocalContext
ARG = json.loads(sys.argv[1])
# What API Gateway's JWT authorizer passes on for a verified host token.
HOST = {"jwt": {"claims": {"sub": "bench", "cognito:groups": "[hosts]"}, "scopes": None}}

def as_host(event):
    return {**event, "requestContext": {**event["requestContext"], "authorizer": HOST}}
start = time.perf_counter()
"""

FLOOR = "floor: boto3 + client + GetItem"
FLOOR_SCRIPT = """
import boto3
client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"])
client.get_item(TableName=os.environ["EVENTS_TABLE"], Key={"pk": {"S": "x"}, "sk": {"N": "0"}})
"""

LIBRARIES = {
    "libraries of a stream function: + pydantic (one model), Logger, Metrics": """
from pydantic import BaseModel
from aws_lambda_powertools import Logger, Metrics
class Body(BaseModel):
    id: str
Logger(service="bench"), Metrics(namespace="bench")
Body.model_validate({"id": "x"})
""",
    "libraries of an API function: + Powertools' resolver, validating one request": """
from pydantic import BaseModel
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
class Body(BaseModel):
    id: str
Logger(service="bench"), Metrics(namespace="bench")
app = APIGatewayHttpResolver(enable_validation=True)
@app.post("/things")
def create(body: Body) -> dict:
    return {"id": body.id}
event = to_event("POST", "/things", {"content-type": "application/json"}, b'{"id": "x"}', "127.0.0.1")
assert app.resolve(event, LocalContext("bench"))["statusCode"] == 200
""",
}
"""What the libraries the functions are built on cost before any of our code: the floor's work, plus pydantic
building and using one model and Powertools' Logger and Metrics (what every function uses), plus for the API
functions Powertools' HTTP API resolver with validation answering one request. They run as any function would
without our two cuts (no boto3, botocore's data cut to the functions' services: docs/cold-start.md), so a
function can start faster than its libraries' row, by about what those cuts save."""

PROJECTOR = "projector function (one stream batch)"
FUNCTIONS = {
    "command function (CreateInvite)": (
        "command_api",
        """
body = json.dumps({"id": ARG["new"], "name": "Ares"}).encode()
event = as_host(to_event("POST", "/commands/CreateInvite", {"content-type": "application/json"}, body, "127.0.0.1"))
assert command_api.handler(event, LocalContext("bench"))["statusCode"] == 200
""",
    ),
    "query function (GET /invitations/{id})": (
        "query_api",
        """
event = as_host(to_event("GET", "/invitations/" + ARG["invite"], {}, b"", "127.0.0.1"))
assert query_api.handler(event, LocalContext("bench"))["statusCode"] == 200
""",
    ),
    PROJECTOR: (
        "projector",
        """
assert projector.handler({"Records": ARG["records"]}, LocalContext("bench")) == {"batchItemFailures": []}
""",
    ),
    "saga function (one stream batch)": (
        "saga",
        """
assert saga.handler({"Records": ARG["records"]}, LocalContext("bench")) == {"batchItemFailures": []}
""",
    ),
}
"""Each function: its module under functions/, and the first event it answers (`ARG` is the run's data)."""

RESTORE_MODEL = """
import snapshot_restore_py as hooks
# Init as SnapStart runs it when a version is published: the import (which registers the hooks), then the
# before-snapshot hooks, in the reverse order of their registration, as the runtime runs them.
for hook, args, kwargs in reversed(hooks.get_before_snapshot()):
    hook(*args, **kwargs)
primed = (time.perf_counter() - start) * 1000
# The snapshot and its restore: a forked child is a copy of the primed interpreter, as a restored environment is.
readable, writable = os.pipe()
if os.fork() == 0:
    try:
        start = time.perf_counter()
        for hook, args, kwargs in hooks.get_after_restore():
            hook(*args, **kwargs)
{answer}
        os.write(writable, json.dumps((time.perf_counter() - start) * 1000).encode())
    except BaseException:
        import traceback
        traceback.print_exc()
        os._exit(1)
    os._exit(0)
os.close(writable)
_, status = os.wait()
assert status == 0, "the restored copy failed to answer"
print(json.dumps([primed, json.loads(os.read(readable, 100))]))
raise SystemExit
"""
"""The restore model: before-snapshot hooks in a fresh interpreter, then os.fork(); the child runs the
after-restore hooks and answers the first event. It leaves out Lambda's own restore (docs/cold-start.md)."""


def fresh_script(module: str, answer: str) -> str:
    """A fresh interpreter: import the function, build its clients and answer its first event."""
    return f"from functions import {module}\n{answer}"


def restore_script(module: str, answer: str) -> str:
    """The restore model of `module`: primed, forked, and the child answers."""
    indented = "\n".join(f"        {line}" if line else line for line in answer.splitlines())
    return f"from functions import {module}\n" + RESTORE_MODEL.replace("{answer}", indented)


LAMBDA_LIKE = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    # What the dev stack sets (infra/stage.py `xray_sdk`): active tracing without the SDK in the function.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "LAMBDA_TASK_ROOT": str(ROOT),
    "_X_AMZN_TRACE_ID": "Root=1-6746f000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}
"""What Lambda and the dev stack set: the functions run as they do there, their trace context set, the X-Ray SDK
left out; `TRACED` turns it on (its segments would go by UDP to a port where no daemon listens)."""

TRACED = {"POWERTOOLS_TRACE_DISABLED": "false"}
"""What the stack sets where the X-Ray SDK is on (prod, with SnapStart, unless `-c xray_sdk` says otherwise)."""

EPILOGUE = "\nprint(json.dumps((time.perf_counter() - start) * 1000))\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Row:
    """Median milliseconds of one function's first answer, fresh and in the restore model."""

    what: str
    fresh: float
    """A fresh interpreter: import, clients, first answer (the floor: boto3, a client, one GetItem)."""
    traced: float | None = None
    """A fresh interpreter with the X-Ray SDK on: what a stage with the SDK and without SnapStart pays."""
    primed: float | None = None
    """Init as SnapStart runs it when a version is published: the import and the before-snapshot hooks."""
    restored: float | None = None
    """The forked copy of the primed interpreter: the after-restore hooks and the first answer."""


SNAPSTART = {"HORIZON_SNAPSTART": "1"} | TRACED
"""What the stack sets with SnapStart on (infra/functions.py): the functions register their hooks, and load the
X-Ray SDK before the snapshot."""


def run(runs: int) -> list[Row]:
    """The floor, then each function fresh and in the restore model; median ms of `runs` interpreters each.

    Our sources are compiled first, and the functions run with botocore's data cut as the bundler ships it
    (bench/coldstart.py, `compile_as_bundled`; infra/sdk_data.py); the floor and the libraries' rows run with
    the whole of it, as any function would without that cut."""
    import tempfile

    import boto3
    from moto.server import ThreadedMotoServer

    from bench.coldstart import compile_as_bundled
    from horizon import resource_names
    from horizon.dynamodb.datakeys import create_local_keys
    from horizon.dynamodb.layout import TIP_SORT_KEY, stream_key
    from horizon.dynamodb.tables import create_tables
    from horizon.local.fake_aws import FAKE_AWS_ENV, restore, use_fake_aws
    from infra.sdk_data import copy_as_shipped

    compile_as_bundled()
    shipped = tempfile.TemporaryDirectory()
    as_shipped = {"PYTHONPATH": os.pathsep.join([str(copy_as_shipped(Path(shipped.name))), str(ROOT)])}
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log
    saved = use_fake_aws()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        env = {**os.environ, **FAKE_AWS_ENV, "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        env |= LAMBDA_LIKE | {
            "EVENTS_TABLE": "cold-events",
            "READ_TABLE": "cold-read",
            "POWERTOOLS_SERVICE_NAME": "bench",
            # High enough that the saga confirms every guest: each of its samples sends the same command.
            "GUEST_LIMIT": "1000000",
        }
        client: Any = boto3.client(
            "dynamodb", endpoint_url=env["DYNAMODB_ENDPOINT_URL"], region_name=FAKE_AWS_ENV["AWS_REGION"]
        )
        create_tables(client, env["EVENTS_TABLE"], env["READ_TABLE"])
        env["AWS_ENDPOINT_URL_KMS"] = env["DYNAMODB_ENDPOINT_URL"]
        kms: Any = boto3.client("kms", endpoint_url=env["AWS_ENDPOINT_URL_KMS"], region_name=FAKE_AWS_ENV["AWS_REGION"])
        create_local_keys(client, kms, resource_names.KEYS_TABLE, resource_names.KMS_KEY)
        from bench.principal import as_bench
        from domain.invitation import AcceptInvite, CreateInvite
        from functions.composition import Container, Settings
        from horizon.local.poller import as_lambda_record

        # The command function's own handler: the invitations' personal fields sealed, under keys in the keys
        # table, as the functions find them on AWS.
        settings = Settings(
            events_table=env["EVENTS_TABLE"],
            read_table=env["READ_TABLE"],
            guest_limit=int(env["GUEST_LIMIT"]),
            read_wait_seconds=0.0,
            region=FAKE_AWS_ENV["AWS_REGION"],
            endpoint_url=env["DYNAMODB_ENDPOINT_URL"],
        )
        handler = Container(settings, client, kms).command_handler
        sequence = iter(range(1000, 10**9))

        def accepted() -> tuple[uuid.UUID, list[dict[str, Any]]]:
            """A new invitation, created and accepted, and its two commits as the stream hands them to a function:
            in order, in one batch, each the tip's image after it, as Lambda passes it (JSON, binary in base64)."""
            invite = uuid.uuid4()
            key = {"pk": {"S": stream_key("Invitation", invite)}, "sk": {"N": TIP_SORT_KEY}}
            records = []
            for name, command in (
                ("INSERT", CreateInvite(id=invite, name="Athena")),
                ("MODIFY", AcceptInvite(id=invite)),
            ):
                handler.handle(command, as_bench())
                image = client.get_item(TableName=env["EVENTS_TABLE"], Key=key)["Item"]
                change = {"Keys": key, "NewImage": image, "SequenceNumber": str(next(sequence))}
                record = {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": change}
                records.append(
                    as_lambda_record(record, "arn:aws:dynamodb:us-east-1:123456789012:table/cold-events/stream/bench")
                )
            return invite, [{**record, "eventID": record["dynamodb"]["SequenceNumber"]} for record in records]

        viewed, projected = accepted()

        def sample(script: str, extra: dict[str, str], records: list[dict[str, Any]] | None = None) -> list[float]:
            # Every first answer does the whole work: a command creates a new invitation, a consumer is handed the
            # commits of one it has not seen (a redelivered commit would be skipped), the query reads a projected view.
            arg = {"new": str(uuid.uuid4()), "invite": str(viewed), "records": records or accepted()[1]}
            done = subprocess.run(
                [sys.executable, "-c", PRELUDE + script + EPILOGUE, json.dumps(arg)],
                cwd=ROOT,
                env=env | extra,
                capture_output=True,
                text=True,
                check=True,
            )
            found = json.loads(done.stdout.strip().splitlines()[-1])
            return [float(v) for v in found] if isinstance(found, list) else [float(found)]

        sample(fresh_script(*FUNCTIONS[PROJECTOR]), as_shipped, projected)  # the view the query reads

        alone = {FLOOR: FLOOR_SCRIPT} | {name: script + FLOOR_SCRIPT for name, script in LIBRARIES.items()}
        times: dict[str, list[list[float]]] = {name: [[]] for name in alone}
        times |= {name: [[], [], [], []] for name in FUNCTIONS}  # fresh, traced, primed, restored
        # Round by round, every row and mode takes its turn: the floor and each function see the same load.
        for _ in range(runs):
            for name, script in alone.items():
                times[name][0] += sample(script, {})
            for name, (module, answer) in FUNCTIONS.items():
                fresh, traced, primed, restored = times[name]
                fresh += sample(fresh_script(module, answer), as_shipped)
                traced += sample(fresh_script(module, answer), as_shipped | TRACED)
                before, after = sample(restore_script(module, answer), as_shipped | SNAPSTART)
                primed.append(before)
                restored.append(after)
        return [Row(name, *(statistics.median(found) for found in times[name])) for name in (*alone, *FUNCTIONS)]
    finally:
        server.stop()
        restore(saved)
        shipped.cleanup()
