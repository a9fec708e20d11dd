"""botocore's data, cut to the services the functions use: what the bundler leaves of it in the asset.

botocore ships a model directory for each of some 450 services and one endpoints.json (1.2 MB) that names them
all. A session's first client lists every model directory, twice (service models, then endpoint rule sets), to
check that the service exists, and parses the whole endpoints.json: about 50 ms of every cold start, which no
function here needs (docs/cold-start.md, "Only the SDK data the functions use"). With the other services' data
gone, a client is built from the same files as before, and a client of any other service fails with botocore's
own UnknownServiceError.

The kept services' models lose what only documentation reads: their `documentation` strings (four fifths of a
model's JSON, parsed by every client built) and their examples (docs/cold-start.md, "Models without their
documentation").
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ENDPOINTS = "endpoints.json"
MODELS = ("service-2.json", "service-2.json.gz")
"""A service model's file names in each API version's directory, plain or compressed."""
EXAMPLES = "examples-1.json"
"""An API version's request examples: botocore's documentation reads them, no client does."""


def copy_as_shipped(into: Path) -> Path:
    """Copy the installed botocore into `into`, slimmed as the asset ships it; `into` is then a PYTHONPATH entry
    that runs code with the asset's botocore (tests and the bench)."""
    import botocore

    from infra.asset import SDK_SERVICES

    shutil.copytree(Path(botocore.__file__).parent, into / "botocore")
    slim_botocore(into / "botocore", SDK_SERVICES)
    return into


def slim_botocore(package: Path, services: Iterable[str]) -> None:
    """Delete from botocore at `package` the data of every service not in `services`, and their endpoints; strip
    the documentation from the models of those in `services`."""
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
    for name in kept:
        for version in (v for v in (data / name).iterdir() if v.is_dir()):
            (version / EXAMPLES).unlink(missing_ok=True)
            for model in (version / m for m in MODELS):
                if model.is_file():
                    _write_json(model, _without_documentation(_read_json(model)))


DOCUMENTED = ("operations", "shapes")
"""The parts of a service model whose documentation strings only botocore's documentation reads. Others keep
theirs: botocore reads `clientContextParams[*].documentation` when it builds a client (S3's, for one)."""


def _without_documentation(model: dict[str, Any]) -> dict[str, Any]:
    """A service model without the service's, its operations' and its shapes' documentation strings."""
    kept = {k: v for k, v in model.items() if k != "documentation"}
    return kept | {part: _undocumented(kept[part]) for part in DOCUMENTED if part in kept}


def _undocumented(node: Any) -> Any:
    """`node` without its documentation: a `documentation` key is dropped only where it holds a string, so a
    member that happens to be named `documentation` (its value a shape reference, a dict) stays."""
    if isinstance(node, dict):
        return {k: _undocumented(v) for k, v in node.items() if not (k == "documentation" and isinstance(v, str))}
    if isinstance(node, list):
        return [_undocumented(v) for v in node]
    return node


def _read_json(path: Path) -> Any:
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)


def _write_json(path: Path, value: Any) -> None:
    raw = json.dumps(value, separators=(",", ":")).encode()
    # mtime=0: the same model gives the same bytes in every bundling, so the asset is reproducible.
    path.write_bytes(gzip.compress(raw, mtime=0) if path.suffix == ".gz" else raw)


def _endpoint_prefix(service: Path) -> str:
    """The endpoint prefix in the model of `service` (a directory of botocore's data) that botocore loads: the
    newest API version's that has one."""
    for version in sorted((v for v in service.iterdir() if v.is_dir()), reverse=True):
        for model in (version / m for m in MODELS):
            if model.is_file():
                return str(_read_json(model)["metadata"]["endpointPrefix"])
    raise ValueError(f"slim_botocore: no service model in {service}")
