"""botocore's data, cut to the services the functions use: what the bundler leaves of it in the asset.

botocore ships a model directory for each of some 450 services and one endpoints.json (1.2 MB) that names them
all. A session's first client lists every model directory, twice (service models, then endpoint rule sets), to
check that the service exists, and parses the whole endpoints.json: about 50 ms of every cold start, which no
function here needs (docs/cold-start.md, "Only the SDK data the functions use"). With the other services' data
gone, a client is built from the same files as before, and a client of any other service fails with botocore's
own UnknownServiceError.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

ENDPOINTS = "endpoints.json"


def copy_as_shipped(into: Path) -> Path:
    """Copy the installed botocore into `into`, slimmed as the asset ships it; `into` is then a PYTHONPATH entry
    that runs code with the asset's botocore (tests and the bench)."""
    import botocore

    from infra.asset import SDK_SERVICES

    shutil.copytree(Path(botocore.__file__).parent, into / "botocore")
    slim_botocore(into / "botocore", SDK_SERVICES)
    return into


def slim_botocore(package: Path, services: Iterable[str]) -> None:
    """Delete from botocore at `package` the data of every service not in `services`, and their endpoints."""
    data = package / "data"
    kept = set(services)
    missing = sorted(name for name in kept if not (data / name).is_dir())
    if missing:
        raise ValueError(f"slim_botocore({package}): botocore has no data for {', '.join(missing)}")
    for directory in data.iterdir():
        if directory.is_dir() and directory.name not in kept:
            shutil.rmtree(directory)
    # endpoints.json is keyed by endpoint prefix, which may differ from the service's name.
    prefixes = kept | {_endpoint_prefix(data / name) for name in kept}
    endpoints = json.loads((data / ENDPOINTS).read_text())
    for partition in endpoints["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k in prefixes}
    (data / ENDPOINTS).write_text(json.dumps(endpoints, separators=(",", ":")))


def _endpoint_prefix(service: Path) -> str:
    """The endpoint prefix in the model of `service` (a directory of botocore's data) that botocore loads: the
    newest API version's that has one."""
    for version in sorted((v for v in service.iterdir() if v.is_dir()), reverse=True):
        for model in (version / "service-2.json", version / "service-2.json.gz"):
            if model.is_file():
                text = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
                return str(json.loads(text)["metadata"]["endpointPrefix"])
    raise ValueError(f"slim_botocore: no service model in {service}")
