"""Starts the real local stack (`python -m functions.local`) on a free port for the end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from horizon.local.auth import issue, signing_key
from tests.e2e.client import Client

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_stack(log: Path, guest_limit: int) -> Iterator[Client]:
    """Run `python -m functions.local` on a free port until the block ends; fail with its log if it won't start."""
    port = _free_port()
    # The stack's development signing key lives beside the log, not in the developer's .local/.
    keys = log.parent / "local"
    env = {
        **os.environ,
        "PORT": str(port),
        "GUEST_LIMIT": str(guest_limit),
        "PYTHONUNBUFFERED": "1",
        "HORIZON_LOCAL_DIR": str(keys),
    }
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "functions.local"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    key = signing_key(keys)
    client = Client(f"http://127.0.0.1:{port}", issue(key, ["hosts"], subject="e2e-host"), key)
    try:
        deadline = time.monotonic() + 60
        while not client.is_up():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the local stack did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The stack of the seed's story (GUEST_LIMIT=2), shared by the session: its saga state is the story's."""
    with running_stack(tmp_path_factory.mktemp("stack") / "stack.log", guest_limit=2) as client:
        yield client
