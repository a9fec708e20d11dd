"""The functions' AWS clients: the shared retry policy and timeouts, and no boto3 import anywhere (cold start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from horizon.local.fake_aws import FAKE_AWS_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_a_function_builds_its_clients_with_the_retry_policy_from_one_session_without_importing_boto3() -> None:
    # A process of its own: another test may have imported boto3 into this one.
    probe = """
import json, sys
from functions.settings import Settings, aws_client
settings = Settings("events", "read", 2, 0.0, "eu-west-1", "http://127.0.0.1:9")
dynamodb, kms = aws_client("dynamodb", settings), aws_client("kms", settings)
config = dynamodb.meta.config
print(json.dumps({
    "boto3": any(m.split(".")[0] in {"boto3", "s3transfer"} for m in sys.modules),
    "services": [dynamodb.meta.service_model.service_name, kms.meta.service_model.service_name],
    "region": kms.meta.region_name,
    "endpoint": dynamodb.meta.endpoint_url,
    "retries": config.retries,
    "timeouts": [config.connect_timeout, config.read_timeout],
}))
"""
    env = {**os.environ, **FAKE_AWS_ENV}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    built = json.loads(done.stdout.strip().splitlines()[-1])
    assert built == {
        "boto3": False,
        "services": ["dynamodb", "kms"],
        "region": "eu-west-1",
        "endpoint": "http://127.0.0.1:9",
        "retries": {"mode": "standard", "total_max_attempts": 3},  # the first try and 2 retries
        "timeouts": [2, 5],
    }


def test_every_function_builds_its_clients_and_routes_from_the_assets_botocore_without_boto3(
    asset_botocore: Path,
) -> None:
    # Each function's SnapStart primer builds what its first event needs (clients, routes, runtimes) and sends
    # no AWS request: what it imports, a fresh start imports too (boto3 would cost about 60 ms of it). botocore
    # is the asset's, which holds the data of the functions' services only (infra/sdk_data.py), and the X-Ray
    # SDK is on, as in prod; without LAMBDA_TASK_ROOT its import builds an X-Ray client too.
    probe = """
import json, sys
import botocore
from functions import command_api, fanout, projector, query_api, saga, snapstart
for prime in (snapstart.prime_commands, snapstart.prime_queries, snapstart.prime_consumers("projectors", "sagas"),
              snapstart.prime_fanout):
    prime()
print(json.dumps([botocore.__file__, sorted(m for m in sys.modules if m.split(".")[0] in {"boto3", "s3transfer"})]))
"""
    env = {**os.environ, **FAKE_AWS_ENV, "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9", "FANOUT_QUEUES": "[]"}
    env |= {"PYTHONPATH": os.pathsep.join([str(asset_botocore), str(ROOT)]), "AWS_LAMBDA_FUNCTION_NAME": "probe"}
    env |= {"POWERTOOLS_TRACE_DISABLED": "false", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    loaded, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(loaded).is_relative_to(asset_botocore)
    assert imported == []


def test_a_function_cannot_build_a_client_of_a_service_the_asset_ships_no_data_for() -> None:
    # The asset holds botocore's data for AwsService only (infra/sdk_data.py): refused here, not on Lambda.
    from functions.settings import Settings, aws_client

    settings = Settings("events", "read", 2, 0.0, "eu-west-1", None)
    with pytest.raises(ValueError, match=r"aws_client\('s3'\): not in AwsService"):
        aws_client("s3", settings)  # type: ignore[arg-type]
