"""Code reload for the local stack: the functions run in a child process that a file watcher restarts.

The data plane (moto and its snapshots) stays in the parent, so a reload costs the functions' cold start and
nothing else: no data is lost, and the poller resumes from its checkpoints. This is how `sam local` behaves:
each invocation sees the current code.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

CANNOT_LISTEN = 3
"""The child's exit code when its port is taken: restarting will not help, so the stack stops."""


class Supervisor:
    """Runs `command` as a child process, restarting it when a Python file under `watched` changes."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str], watched: Sequence[Path]) -> None:
        self._command = list(command)
        self._env = dict(env)
        self._watched = [p for p in watched if p.exists()]
        self._child: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def run(self, stop: threading.Event, *, reload: bool = True) -> int:
        """Supervise until `stop` is set (0) or the child cannot listen (1)."""
        self._spawn()
        try:
            if not reload:
                while not stop.wait(0.5):
                    if self._cannot_listen():
                        return 1
                return 0
            from watchfiles import PythonFilter, watch

            for changes in watch(
                *self._watched, watch_filter=PythonFilter(), stop_event=stop, rust_timeout=500, yield_on_timeout=True
            ):
                if self._cannot_listen():
                    return 1
                if changes:
                    names = sorted({Path(path).name for _, path in changes})
                    logger.info("reloading the functions: %s changed", ", ".join(names))
                    self._terminate()
                    self._spawn()
                    self.restarts += 1
            return 0
        finally:
            self._terminate()

    def _cannot_listen(self) -> bool:
        child = self._child
        if child is None or child.poll() is None:
            return False
        if child.returncode == CANNOT_LISTEN:
            return True
        if not getattr(child, "reported", False):
            logger.error("the functions exited with code %s; fix the code and save to restart", child.returncode)
            child.reported = True  # type: ignore[attr-defined]
        return False

    def _spawn(self) -> None:
        self._child = subprocess.Popen(self._command, env={**self._env, "HORIZON_PARENT_PID": str(os.getpid())})

    def _terminate(self) -> None:
        child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def exit_with_parent() -> None:
    """In the child: exit when the supervising parent is gone (killed with -9, say), instead of lingering."""
    parent = int(os.environ.get("HORIZON_PARENT_PID", "0"))
    if not parent:
        return

    def watch_parent() -> None:
        while os.getppid() == parent:
            threading.Event().wait(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, name="horizon-parent-watch", daemon=True).start()


def python_command(module: str, *args: str) -> list[str]:
    """`python -m module args` with this interpreter."""
    return [sys.executable, "-m", module, *args]
