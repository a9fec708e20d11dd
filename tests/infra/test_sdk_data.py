"""botocore's data as the asset ships it: the services the functions use, and clients built exactly as before."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from horizon.local.fake_aws import FAKE_AWS_ENV
from infra.asset import SDK_SERVICES
from infra.sdk_data import slim_botocore


def write_model(data: Path, name: str, prefix: str, *, compressed: bool = False) -> None:
    version = data / name / "2020-01-01"
    version.mkdir(parents=True)
    text = json.dumps({"metadata": {"endpointPrefix": prefix}}).encode()
    if compressed:
        (version / "service-2.json.gz").write_bytes(gzip.compress(text))
    else:
        (version / "service-2.json").write_bytes(text)


@pytest.fixture
def miniature(tmp_path: Path) -> Path:
    """botocore in miniature: three services, one named apart from its endpoint prefix, and the shared files."""
    data = tmp_path / "botocore" / "data"
    write_model(data, "dynamodb", "dynamodb", compressed=True)
    write_model(data, "streams", "streams.dynamodb")
    (data / "streams" / "2030-01-01").mkdir()  # a newer API version with examples only: botocore skips it
    (data / "streams" / "2030-01-01" / "examples-1.json").write_text("{}")
    write_model(data, "s3", "s3")
    services = {"dynamodb": {"a": 1}, "streams.dynamodb": {"b": 2}, "s3": {"c": 3}}
    partitions = [{"partition": "aws", "services": services}, {"partition": "aws-cn", "services": services}]
    (data / "endpoints.json").write_text(json.dumps({"partitions": partitions, "version": 3}))
    (data / "_retry.json").write_text("{}")
    return tmp_path / "botocore"


def test_slimming_keeps_the_named_services_and_their_endpoints_by_prefix_and_the_shared_files(
    miniature: Path,
) -> None:
    slim_botocore(miniature, ["dynamodb", "streams"])

    data = miniature / "data"
    assert sorted(p.name for p in data.iterdir()) == ["_retry.json", "dynamodb", "endpoints.json", "streams"]
    endpoints = json.loads((data / "endpoints.json").read_text())
    kept = {"dynamodb": {"a": 1}, "streams.dynamodb": {"b": 2}}
    assert endpoints == {"partitions": [{"partition": p, "services": kept} for p in ("aws", "aws-cn")], "version": 3}


def test_slimming_strips_the_kept_models_documentation_and_examples_and_nothing_a_client_reads(
    miniature: Path,
) -> None:
    version = miniature / "data" / "dynamodb" / "2020-01-01"
    documented = {
        "version": "2.0",
        "documentation": "<p>The service.</p>",
        "metadata": {"endpointPrefix": "dynamodb"},
        "clientContextParams": {"Accelerate": {"type": "boolean", "documentation": "read when a client is built"}},
        "operations": {"GetItem": {"name": "GetItem", "input": {"shape": "In"}, "documentation": "<p>Gets.</p>"}},
        "shapes": {
            "In": {
                "type": "structure",
                "members": {
                    "Key": {"shape": "Key", "documentation": "<p>The key.</p>"},
                    "documentation": {"shape": "Key"},  # a member that happens to bear the name
                },
                "documentation": "<p>Input.</p>",
            },
            "Key": {"type": "string", "enum": ["documentation"]},
        },
    }
    (version / "service-2.json.gz").write_bytes(gzip.compress(json.dumps(documented).encode()))
    (version / "examples-1.json").write_text('{"examples": {}}')

    slim_botocore(miniature, ["dynamodb"])

    assert sorted(p.name for p in version.iterdir()) == ["service-2.json.gz"]
    first = (version / "service-2.json.gz").read_bytes()
    assert json.loads(gzip.decompress(first)) == {
        "version": "2.0",
        "metadata": {"endpointPrefix": "dynamodb"},
        "clientContextParams": {"Accelerate": {"type": "boolean", "documentation": "read when a client is built"}},
        "operations": {"GetItem": {"name": "GetItem", "input": {"shape": "In"}}},
        "shapes": {
            "In": {"type": "structure", "members": {"Key": {"shape": "Key"}, "documentation": {"shape": "Key"}}},
            "Key": {"type": "string", "enum": ["documentation"]},
        },
    }
    slim_botocore(miniature, ["dynamodb"])
    assert (version / "service-2.json.gz").read_bytes() == first  # the same bytes again: a rebuild is reproducible


def test_slimming_for_a_service_botocore_does_not_have_fails_the_build_and_deletes_nothing(miniature: Path) -> None:
    with pytest.raises(ValueError, match="botocore has no data for nope"):
        slim_botocore(miniature, ["dynamodb", "nope"])
    assert (miniature / "data" / "s3").is_dir()


PROBE = """
import json, sys
from botocore.exceptions import UnknownServiceError
from botocore.session import get_session

class Sent(Exception):
    pass

def stop(request, **_):
    scope = request.headers["Authorization"].decode().split("Credential=")[1].split(",")[0].split("/")
    raise Sent(request.url, scope[2], scope[3])

calls = {"dynamodb": "list_tables", "kms": "list_keys", "secretsmanager": "list_secrets", "sqs": "list_queues",
         "xray": "get_sampling_rules"}
seen = {}
session = get_session()
for service in json.loads(sys.argv[1]):
    for region in ("us-east-1", "eu-central-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1"):
        try:
            client = session.create_client(service, region_name=region)
            client.meta.events.register("before-send", stop)
            getattr(client, calls[service])()
        except Sent as sent:
            seen[f"{service} {region}"] = list(sent.args)
        except Exception as error:
            seen[f"{service} {region}"] = [type(error).__name__, str(error)]
try:
    session.create_client("s3", region_name="us-east-1")
    seen["s3"] = "built"
except UnknownServiceError:
    seen["s3"] = "unknown"
print(json.dumps(seen))
"""


def requests_signed(services: tuple[str, ...], botocore_parent: Path | None) -> dict[str, object]:
    """What a fresh interpreter's clients send for each service and region: URL, signing region and name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | FAKE_AWS_ENV
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(botocore_parent or ""), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(services)], env=env, capture_output=True, text=True, check=True
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_slimmed_botocore_signs_and_sends_every_request_of_the_assets_services_as_the_whole_one_does(
    asset_botocore: Path,
) -> None:
    whole, slimmed = requests_signed(SDK_SERVICES, None), requests_signed(SDK_SERVICES, asset_botocore)

    assert whole.pop("s3") == "built"
    assert slimmed.pop("s3") == "unknown"
    assert slimmed == whole
    frankfurt = ["https://dynamodb.eu-central-1.amazonaws.com/", "eu-central-1", "dynamodb"]
    assert whole["dynamodb eu-central-1"] == frankfurt
    assert whole["kms cn-north-1"] == ["https://kms.cn-north-1.amazonaws.com.cn/", "cn-north-1", "kms"]
    size = sum(p.stat().st_size for p in (asset_botocore / "botocore" / "data").rglob("*") if p.is_file())
    assert size < 2_000_000  # of some 25 MB


def test_the_slimmed_models_hold_every_operation_and_shape_of_the_whole_ones_without_their_documentation(
    asset_botocore: Path,
) -> None:
    import botocore
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    whole_data = Path(botocore.__file__).parent / "data"
    whole = Loader(extra_search_paths=[str(whole_data)], include_default_search_paths=False)
    slimmed = Loader(extra_search_paths=[str(asset_botocore / "botocore" / "data")], include_default_search_paths=False)
    for service in SDK_SERVICES:
        before = ServiceModel(whole.load_service_model(service, "service-2"), service)
        after = ServiceModel(slimmed.load_service_model(service, "service-2"), service)

        assert after.operation_names == before.operation_names
        assert after.metadata == before.metadata
        assert after.shape_names == before.shape_names
        for name in before.shape_names:
            shape, kept = before.shape_for(name), after.shape_for(name)
            assert (kept.type_name, kept.metadata, kept.serialization) == (
                shape.type_name,
                shape.metadata,
                shape.serialization,
            )
            assert list(getattr(kept, "members", {})) == list(getattr(shape, "members", {}))
            assert kept.documentation == ""
        assert any(before.shape_for(name).documentation for name in before.shape_names)
        assert not list((asset_botocore / "botocore" / "data" / service).glob("*/examples-1.json"))
