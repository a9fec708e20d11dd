"""schemathesis, a fuzzer no one here wrote, takes the served /openapi.json at its word against a running stack.

Every operation gets generated requests, valid and invalid, with a host's token; each answer must be no 5xx,
a declared status, a declared content type and a body matching the declared schema, and invalid input must be
refused. Bounded and derandomized so it runs the same requests every time, in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.client import Client
from tests.e2e.conftest import local_stack

# Its own stack: fuzzed commands accept fuzzed invitations, which must not take the story's seats.
pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

EXAMPLES = 15
"""Generated requests per operation and generation mode, at most."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    # A fuzzed min_version is never reached: a short wait keeps each such read from costing 2 s.
    with local_stack(Path(tmp_path_factory.mktemp("fuzzed")), READ_WAIT_SECONDS="0.05") as stack:
        yield stack.client


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_only_what_the_served_document_declares(fuzzed: Client, mode: GenerationMode) -> None:
    # Loaded from the running stack, as a generated client or a gateway's validator would load it.
    schema = schemathesis.openapi.from_url(f"{fuzzed.base_url}/openapi.json")
    auth = {"Authorization": f"Bearer {fuzzed.token}"}
    sent: dict[str, list[int]] = {}
    failures: list[str] = []
    started = time.perf_counter()

    results = list(schema.get_all_operations())
    assert not [result.err() for result in results if isinstance(result, Err)], "the document does not parse"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    if mode is GenerationMode.NEGATIVE:  # only an operation with input has invalid input to send
        operations = [op for op in operations if op.body or any(True for _ in op.iter_parameters())]
    for operation in operations:
        try:
            fuzz(operation, mode, auth, sent)
        except Exception as failure:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {failure}")

    elapsed = time.perf_counter() - started
    requests = sum(len(statuses) for statuses in sent.values())
    print(f"schemathesis {mode}: {requests} requests over {len(sent)} operations in {elapsed:.1f} s: {sorted(sent)}")
    assert not failures, "\n\n".join(failures)
    assert sorted(sent) == sorted(op.label for op in operations)
    if mode is GenerationMode.POSITIVE:  # the token was good, so valid input got past the authorizer
        assert not [label for label, statuses in sent.items() if 401 in statuses or 403 in statuses]


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], sent: dict[str, list[int]]) -> None:
    """Send up to EXAMPLES generated requests to one operation and run every check on each answer."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same requests on every run
        database=None,  # and no example database left in the checkout
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        sent.setdefault(operation.label, []).append(response.status_code)

    conforms()
