"""`make run` when something else holds the port: a clear message and a failing exit code, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]


def _start_beside_a_taken_port(tmp_path: Path, taken_as: str) -> tuple[int, subprocess.CompletedProcess[str]]:
    """Run `python -m functions.local` while another socket holds the port named by `taken_as` (API or data)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        api, data = (port, free_port()) if taken_as == "api" else (free_port(), port)
        env = {**os.environ, "DYNAMODB_PORT": str(data), "HORIZON_LOCAL_DATA": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "functions.local", "--port", str(api)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )
    return port, done


def test_a_port_in_use_is_reported_in_one_line_with_exit_code_1(tmp_path: Path) -> None:
    port, done = _start_beside_a_taken_port(tmp_path, "api")
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_data_port_in_use_is_reported_in_one_line_with_exit_code_1(tmp_path: Path) -> None:
    port, done = _start_beside_a_taken_port(tmp_path, "data")
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "DYNAMODB_PORT" in done.stderr
    assert "Traceback" not in done.stderr
