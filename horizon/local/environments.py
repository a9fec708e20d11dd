"""Lambda's scaling, imitated: a function runs in several execution environments, one invocation each at a time.

Each environment is a worker process, forked from a server process that has imported the handlers once
(`preload`), so a new environment costs milliseconds, not a second of imports; it serves one invocation at a
time, as Lambda's do. Processes, not threads: handlers keep per-invocation state in module and
even class attributes (Powertools' resolvers share `BaseRouter.current_event` across every resolver of a
process), so two invocations in one process, even of two different functions, could read each other's event.
An invocation borrows an idle environment or, while the function is under its concurrency limit, starts a new
one. A read waiting for a projection holds one environment, and `/health` is answered by another.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
from multiprocessing.connection import Connection
from typing import Any

from horizon.local.lambda_context import LocalContext

logger = logging.getLogger(__name__)


class EnvironmentCrashed(RuntimeError):
    """The worker process died during an invocation (the front door answers 500, as API Gateway would)."""


class Environment:
    """One worker process running `handler` ("package.module:function")."""

    def __init__(self, handler: str) -> None:
        # Forked from the single-threaded fork server, never from this threaded process: no locks inherited.
        context = multiprocessing.get_context("forkserver")
        self._connection, remote = context.Pipe()
        self._process = context.Process(target=_serve, args=(handler, remote), daemon=True, name=handler)
        self._process.start()
        remote.close()

    def invoke(self, event: dict[str, Any], context: LocalContext) -> dict[str, Any]:
        """Run one invocation in the worker and return its result, or raise what the handler raised."""
        try:
            self._connection.send((event, context.function_name, context.aws_request_id))
            ok, value = self._connection.recv()
        except (EOFError, OSError) as error:
            raise EnvironmentCrashed(f"{self._process.name}: the execution environment died") from error
        if not ok:
            raise RuntimeError(value)
        return dict(value)

    def stop(self) -> None:
        """End the worker."""
        self._connection.close()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()


def preload(*modules: str) -> None:
    """Modules the fork server imports before it forks any environment; call before the first environment."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(modules))


class Environments:
    """Up to `limit` execution environments of one function; calling it invokes the function once."""

    def __init__(self, handler: str, limit: int = 8) -> None:
        self._handler = handler
        self._limit = limit
        self._idle: list[Environment] = []
        self._created = 0
        self._starting = False
        self._available = threading.Condition()

    def __call__(self, event: dict[str, Any], context: LocalContext) -> dict[str, Any]:
        environment = self._borrow()
        self._keep_a_spare()
        try:
            result = environment.invoke(event, context)
        except EnvironmentCrashed:
            environment.stop()
            with self._available:
                self._created -= 1
                self._available.notify()
            raise
        except BaseException:
            self._give_back(environment)
            raise
        self._give_back(environment)
        return result

    def warm(self) -> None:
        """Start one environment now, so the first request does not pay the cold start."""
        self._give_back(self._borrow())

    def _keep_a_spare(self) -> None:
        # Like provisioned concurrency of one: when the last idle environment is taken, start the next one in
        # the background, so a request arriving while the others are busy (a health check behind waiting reads)
        # does not pay a cold start.
        with self._available:
            if self._idle or self._created >= self._limit or self._starting:
                return
            self._starting = True
        threading.Thread(target=self._start_spare, name="horizon-spare", daemon=True).start()

    def _start_spare(self) -> None:
        try:
            self.warm()
        finally:
            with self._available:
                self._starting = False

    def stop(self) -> None:
        """End every idle environment."""
        with self._available:
            idle, self._idle = self._idle, []
        for environment in idle:
            environment.stop()

    def _give_back(self, environment: Environment) -> None:
        with self._available:
            self._idle.append(environment)
            self._available.notify()

    def _borrow(self) -> Environment:
        with self._available:
            while not self._idle and self._created >= self._limit:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._created += 1
        try:
            return Environment(self._handler)  # started outside the lock: other environments keep serving
        except BaseException:
            with self._available:
                self._created -= 1
                self._available.notify()
            raise


def _serve(handler_ref: str, connection: Connection) -> None:
    """The worker's loop: import the handler, then answer invocations until the pipe closes."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    module, _, name = handler_ref.partition(":")
    handler = getattr(importlib.import_module(module), name)
    while True:
        try:
            event, function_name, request_id = connection.recv()
        except (EOFError, OSError):
            return
        try:
            result = handler(event, LocalContext(function_name, aws_request_id=request_id))
            reply: tuple[bool, Any] = (True, result)
        except Exception as error:
            logger.exception("%s crashed", function_name)
            reply = (False, f"{type(error).__name__}: {error}")
        connection.send(reply)
