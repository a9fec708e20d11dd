"""Cold start, honestly: a fresh interpreter that imports a function, builds its client and answers its first
event against a DynamoDB endpoint, against the floor of one that imports boto3, builds a client and makes one
GetItem on the same endpoint (a moto server on a free local port, started here)."""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import uuid
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

SCRIPTS = {
    "floor: boto3 + client + GetItem": """
import boto3
client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"])
client.get_item(TableName=os.environ["EVENTS_TABLE"], Key={"pk": {"S": "x"}, "sk": {"N": "0"}})
""",
    "command function (CreateInvite)": """
from functions import command_api
body = json.dumps({"id": ARG["new"], "name": "Ares"}).encode()
event = as_host(to_event("POST", "/commands/CreateInvite", {"content-type": "application/json"}, body, "127.0.0.1"))
assert command_api.handler(event, LocalContext("bench"))["statusCode"] == 200
""",
    "query function (GET /invitations/{id})": """
from functions import query_api
event = as_host(to_event("GET", "/invitations/" + ARG["invite"], {}, b"", "127.0.0.1"))
assert query_api.handler(event, LocalContext("bench"))["statusCode"] in (200, 404)
""",
    "projector function (one stream batch)": """
from functions import projector
assert projector.handler({"Records": ARG["records"]}, LocalContext("bench")) == {"batchItemFailures": []}
""",
    "saga function (one stream batch)": """
from functions import saga
assert saga.handler({"Records": ARG["records"]}, LocalContext("bench")) == {"batchItemFailures": []}
""",
}
LAMBDA_LIKE = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "LAMBDA_TASK_ROOT": str(ROOT),
    "_X_AMZN_TRACE_ID": "Root=1-6746f000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}
"""What Lambda sets: the functions run as they do there, tracer on (X-Ray's SDK picks its Lambda sampler, not
the daemon-polling one it builds elsewhere) and segments sent by UDP to a port where no daemon listens."""

EPILOGUE = "\nprint(json.dumps((time.perf_counter() - start) * 1000))\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(runs: int) -> list[tuple[str, float]]:
    """Rows of (what, median ms in a fresh interpreter); the first row is the floor."""
    import boto3
    from moto.server import ThreadedMotoServer

    from horizon import resource_names
    from horizon.dynamodb.datakeys import create_local_keys
    from horizon.dynamodb.eventstore import DynamoDBEventStore
    from horizon.dynamodb.layout import TIP_SORT_KEY, stream_key
    from horizon.dynamodb.tables import create_tables
    from horizon.local.fake_aws import FAKE_AWS_ENV, restore, use_fake_aws

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
        }
        client: Any = boto3.client(
            "dynamodb", endpoint_url=env["DYNAMODB_ENDPOINT_URL"], region_name=FAKE_AWS_ENV["AWS_REGION"]
        )
        create_tables(client, env["EVENTS_TABLE"], env["READ_TABLE"])
        env["AWS_ENDPOINT_URL_KMS"] = env["DYNAMODB_ENDPOINT_URL"]
        kms: Any = boto3.client("kms", endpoint_url=env["AWS_ENDPOINT_URL_KMS"], region_name=FAKE_AWS_ENV["AWS_REGION"])
        create_local_keys(client, kms, resource_names.KEYS_TABLE, resource_names.KMS_KEY)
        from bench.principal import as_bench
        from domain import build_registry
        from domain.invitation import AcceptInvite, CreateInvite
        from horizon.command_handler import CommandHandler

        invite = uuid.uuid4()
        handler = CommandHandler(build_registry(), DynamoDBEventStore(client, env["EVENTS_TABLE"]))
        handler.handle(CreateInvite(id=invite, name="Athena"), as_bench())
        handler.handle(AcceptInvite(id=invite), as_bench())
        key = {"pk": {"S": stream_key("Invitation", invite)}, "sk": {"N": TIP_SORT_KEY}}
        image = client.get_item(TableName=env["EVENTS_TABLE"], Key=key)["Item"]
        rows = []
        for name, script in SCRIPTS.items():
            samples = []
            for index in range(runs):
                record = {
                    "eventID": str(index),
                    "eventName": "MODIFY",
                    "eventSource": "aws:dynamodb",
                    "dynamodb": {"Keys": key, "NewImage": image, "SequenceNumber": str(1000 + index)},
                }
                arg = {"new": str(uuid.uuid4()), "invite": str(invite), "records": [record]}
                done = subprocess.run(
                    [sys.executable, "-c", PRELUDE + script + EPILOGUE, json.dumps(arg)],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                samples.append(float(done.stdout.strip().splitlines()[-1]))
            rows.append((name, statistics.median(samples)))
        return rows
    finally:
        server.stop()
        restore(saved)
