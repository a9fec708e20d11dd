"""Cold start: import time of each Lambda entry point, and a fresh process's first request.

Each figure is the median of several fresh interpreters; compare the ratios, the milliseconds are this machine's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def _lambda_env() -> dict[str, str]:
    from bench.firstcall import LAMBDA_LIKE

    return {**os.environ, **LAMBDA_LIKE}


def _fresh(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter run with `args` in the repository, in Lambda's environment unless given another."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env or _lambda_env(), capture_output=True, text=True, check=True
    )


def _printed(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON value on the last line a fresh interpreter printed."""
    return json.loads(done.stdout.strip().splitlines()[-1])


MODULES = [
    "boto3",
    "pydantic",
    "aws_lambda_powertools.event_handler",
    "functions.command_api",
    "functions.query_api",
    "functions.projector",
    "functions.saga",
]

FIRST_REQUEST = """
import json, time
start = time.perf_counter()
from functions import query_api
from horizon.local.apigw import to_event
from horizon.local.lambda_context import LocalContext
imported = time.perf_counter()
query_api.handler(to_event("GET", "/health", {}, b"", "127.0.0.1"), LocalContext("bench"))
first = time.perf_counter()
query_api.handler(to_event("GET", "/health", {}, b"", "127.0.0.1"), LocalContext("bench"))
second = time.perf_counter()
print(json.dumps({"import": imported - start, "first": first - imported, "warm": second - first}))
"""


def import_ms(module: str, runs: int = RUNS) -> float:
    """Median cumulative import time of `module` in a fresh interpreter, in ms (from -X importtime)."""
    samples = []
    for _ in range(runs):
        done = _fresh("-X", "importtime", "-c", f"import {module}")
        for line in done.stderr.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[2] == module:
                samples.append(int(parts[1]) / 1000)
    return statistics.median(samples)


def first_request(runs: int = RUNS) -> dict[str, float]:
    """Median import, first-request and warm-request times (ms) of the query function in fresh processes."""
    answers = []
    for _ in range(runs):
        answers.append(_printed(_fresh("-c", FIRST_REQUEST)))
    return {key: statistics.median(r[key] for r in answers) * 1000 for key in answers[0]}


IMPORT_STEPS = [
    ("pydantic: its models' machinery", "pydantic.fields"),
    ("Powertools' event handler", "aws_lambda_powertools.event_handler"),
    ("Powertools' OpenAPI parameters (validation)", "aws_lambda_powertools.event_handler.openapi.params"),
    ("the functions' observability (Powertools' Logger, Metrics, Tracer)", "functions.observability"),
    ("the framework's ports (events, commands, aggregate)", "horizon.aggregate"),
    ("the domain", "domain"),
    ("the command handler and its routes", "horizon.http.command_routes"),
    ("the composition root and the API's routes", "functions.api"),
    ("the command function itself", "functions.command_api"),
]
"""The command function's import, step by step in one interpreter: each step imports what the earlier ones have
not (botocore is not among them: its import waits for the first client)."""

IMPORT_STEPS_SCRIPT = """import importlib, json, sys, time
found = []
for module in json.loads(sys.argv[1]):
    start = time.perf_counter()
    importlib.import_module(module)
    found.append(time.perf_counter() - start)
assert "botocore.session" not in sys.modules, "a step imported botocore's session"
print(json.dumps(found))
"""


def import_steps(runs: int = RUNS) -> list[tuple[str, float]]:
    """Median ms of each of IMPORT_STEPS in fresh interpreters, with the sources compiled as bundled."""
    compile_as_bundled()
    modules = json.dumps([module for _, module in IMPORT_STEPS])
    samples: list[list[float]] = []
    for _ in range(runs):
        samples.append(_printed(_fresh("-c", IMPORT_STEPS_SCRIPT, modules)))
    return [(what, statistics.median(s[i] for s in samples) * 1000) for i, (what, _) in enumerate(IMPORT_STEPS)]


FROM_SOURCE = "functions.command_api"
"""The function whose import is timed with and without bytecode (`from_source`)."""


def from_source(runs: int = RUNS) -> tuple[float, float]:
    """Median ms to import FROM_SOURCE in a fresh interpreter with every module's bytecode at hand, and with none.

    Without bytecode, as an asset built with `pip --no-compile` runs on Lambda's read-only disk, an interpreter
    compiles every module it imports, the libraries' included, at every cold start. An empty PYTHONPYCACHEPREFIX
    stands for that disk: Python looks for bytecode there only, finds none, and may not write any. Alternated.
    """
    import tempfile

    compile_as_bundled()
    script = f"import time; start = time.perf_counter(); import {FROM_SOURCE}; print(time.perf_counter() - start)"
    with tempfile.TemporaryDirectory() as empty:
        compiled, source = _alternated(script, [{}, {"PYTHONPYCACHEPREFIX": empty}], runs)
    return compiled, source


FIRST_CLIENT = """import time
from botocore.session import get_session
session = get_session()
start = time.perf_counter()
session.create_client("dynamodb", region_name="us-east-1")
print(time.perf_counter() - start)
"""


def first_client(runs: int = RUNS) -> tuple[float, float]:
    """Median ms of a fresh session's first client (DynamoDB's), with botocore's whole data and with the data the
    asset ships (infra/sdk_data.py). Alternated."""
    import tempfile

    from infra.sdk_data import copy_as_shipped

    with tempfile.TemporaryDirectory() as shipped:
        path = os.pathsep.join([str(copy_as_shipped(Path(shipped))), str(ROOT)])
        whole, cut = _alternated(FIRST_CLIENT, [{}, {"PYTHONPATH": path}], runs)
    return whole, cut


def _alternated(script: str, variants: list[dict[str, str]], runs: int) -> list[float]:
    """Median ms (the script prints seconds) of `script` in fresh interpreters, per environment variant; the
    variants take turns, so each sees the same machine load."""
    samples: list[list[float]] = [[] for _ in variants]
    for _ in range(runs):
        for variant, found in zip(variants, samples, strict=True):
            env = _lambda_env() | {"PYTHONDONTWRITEBYTECODE": "1"} | variant
            found.append(float(_printed(_fresh("-c", script, env=env))) * 1000)
    return [statistics.median(found) for found in samples]


def compile_as_bundled() -> None:
    """Compile the asset's packages to bytecode, as the bundler does (infra/bundling.py).

    A fresh interpreter then reads our modules as it reads the installed libraries' (pip compiled those), instead
    of compiling them again in every run, as it would under PYTHONDONTWRITEBYTECODE. Timestamp-checked files, in
    the usual ignored `__pycache__` directories: an edited module is compiled again, never read stale.
    """
    import compileall

    from infra.asset import SOURCE_PACKAGES

    for package in SOURCE_PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


def run(runs: int = RUNS) -> tuple[list[tuple[str, float]], dict[str, float]]:
    """Import medians per module, and the first-request breakdown, with the sources compiled as bundled."""
    compile_as_bundled()
    return [(module, import_ms(module, runs)) for module in MODULES], first_request(runs)
