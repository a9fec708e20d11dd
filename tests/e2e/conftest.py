"""Starts the real local stack (`python -m functions.local`) on free ports and a temporary data directory, or,
for `make smoke`, points the same tests at a deployed stack.

Smoke mode: `HORIZON_API_URL` names the stack, `HORIZON_TOKEN_HOST` and `HORIZON_TOKEN_GUEST` are bearer tokens
of a host and a guest (README, "Smoke-test a deployed stack"). Tests marked `local_only` need the local stack's
internals (its signing key, CLI, data directory, log, restarts) or a stack of their own; smoke mode deselects them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from horizon.local.auth import issue, signing_key
from tests.e2e.client import Client

ROOT = Path(__file__).resolve().parents[2]

API_URL = "HORIZON_API_URL"
TOKENS = {"hosts": "HORIZON_TOKEN_HOST", "guests": "HORIZON_TOKEN_GUEST"}
"""The environment of smoke mode: the deployed stack's URL and a bearer token per role."""


def deployed() -> Client | None:
    """A host's client of the deployed stack named by HORIZON_API_URL, or None to run the local stack."""
    url = os.environ.get(API_URL)
    if not url:
        return None
    tokens = {role: os.environ[name] for role, name in TOKENS.items() if os.environ.get(name)}
    if "hosts" not in tokens:
        raise pytest.UsageError(f"{API_URL} is set: set {TOKENS['hosts']} too (README: smoke-test a deployed stack)")
    return Client(url, tokens["hosts"], tokens=tokens)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In smoke mode, leave out what only the local stack can run, whatever `-m` says."""
    if not os.environ.get(API_URL):
        return
    local = [item for item in items if item.get_closest_marker("local_only")]
    if local:
        config.hook.pytest_deselected(items=local)
        items[:] = [item for item in items if not item.get_closest_marker("local_only")]


def free_port() -> int:
    """A port nothing listens on now (never 3000 or 8000: other sessions use those)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalStack:
    """One `python -m functions.local` process: its API client, data endpoint and data directory."""

    log: Path
    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    data_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def keys_dir(self) -> Path:
        """The stack's development signing key lives beside its data, never in the developer's .local/."""
        return self.data_dir.parent / "local"

    @property
    def client(self) -> Client:
        """A client holding a host's token signed with this stack's key."""
        key = signing_key(self.keys_dir)
        return Client(f"http://127.0.0.1:{self.port}", issue(key, ["hosts"], subject="e2e-host"), key)

    @property
    def data_url(self) -> str:
        return f"http://127.0.0.1:{self.data_port}"

    def start(self) -> Client:
        """Start the stack and wait until it answers /health; fail with its log if it does not."""
        env = {
            **os.environ,
            "PORT": str(self.port),
            "DYNAMODB_PORT": str(self.data_port),
            "HORIZON_LOCAL_DATA": str(self.data_dir),
            "PYTHONUNBUFFERED": "1",
            "RELOAD": "0",  # an edit in the checkout while tests run must not restart their stacks
            "HORIZON_LOCAL_DIR": str(self.keys_dir),
            **self.env,
        }
        with self.log.open("a") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "functions.local"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        client = self.client
        deadline = time.monotonic() + 60
        while not client.is_up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                pytest.fail(f"the local stack did not start:\n{self.log.read_text()}")
            time.sleep(0.1)
        return client

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """Stop the stack with `how` (SIGTERM and SIGINT save the data; SIGKILL does not) and wait for it."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(how)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # The functions' process notices its parent is gone within half a second and exits too.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.client.is_up():
            time.sleep(0.1)


@contextmanager
def local_stack(directory: Path, guest_limit: int = 2, **env: str) -> Iterator[LocalStack]:
    """A LocalStack under `directory` (log and data), started, and stopped when the block ends."""
    stack = LocalStack(directory / "stack.log", directory / "data", {"GUEST_LIMIT": str(guest_limit), **env})
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@contextmanager
def running_stack(log: Path, guest_limit: int) -> Iterator[Client]:
    """Run the local stack on free ports with its data next to `log` until the block ends."""
    with local_stack(log.parent, guest_limit) as stack:
        yield stack.client


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The stack of the seed's story (GUEST_LIMIT=2), shared by the session: its saga state is the story's.

    In smoke mode, the deployed stack instead: whatever its state, so tests that need fresh counters are local_only.
    """
    remote = deployed()
    if remote is not None:
        yield remote
        return
    with running_stack(tmp_path_factory.mktemp("stack") / "stack.log", guest_limit=2) as client:
        yield client
