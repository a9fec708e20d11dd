"""A local HTTP front door that hands each request to a Lambda handler, as API Gateway would."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from horizon.local.apigw import from_result, to_event
from horizon.local.lambda_context import LocalContext

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
Router = Callable[[str, str], tuple[str, LambdaHandler]]
"""(method, path) → (function name, handler), like the HTTP API's route → integration table."""

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's HTTP API payload cap
LISTEN_BACKLOG = 128
"""Connections the kernel queues before accepting; the standard library's 5 resets a burst of clients."""


class FrontDoor(ThreadingHTTPServer):
    """A threading HTTP server with a listen backlog that holds a burst."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


def serve(host: str, port: int, router: Router) -> ThreadingHTTPServer:
    """Start serving in a daemon thread and return the server (its `server_address` has the real port)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the API, as on API Gateway: a method the API does not list (TRACE, say)
            # gets its 405 problem from the function instead of the standard library's HTML 501.
            if name.startswith("do_"):
                return self._answer
            raise AttributeError(name)

        def _answer(self) -> None:
            started = time.perf_counter()
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self._send(400, {"Content-Type": "application/json"}, b'{"message":"Bad Content-Length"}')
                self.close_connection = True
                return
            if length > MAX_PAYLOAD:
                self._send(413, {"Content-Type": "application/json"}, b'{"message":"Request Entity Too Large"}')
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            name, handler = router(self.command, self.path.partition("?")[0])
            event = to_event(self.command, self.path, dict(self.headers.items()), body, self.client_address[0])
            try:
                result = handler(event, LocalContext(name))
            except Exception:
                # API Gateway answers an integration crash with a bare 500; so do we, and we log why.
                logger.exception("%s crashed on %s %s", name, self.command, self.path)
                self._send(500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}')
                return
            status, headers, raw = from_result(result)
            self._send(status, headers, raw)
            elapsed = (time.perf_counter() - started) * 1000
            logger.info('%s "%s %s" %d %d %.0f ms', name, self.command, self.path, status, len(raw), elapsed)

        def _send(self, status: int, headers: dict[str, str], raw: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Silence http.server's own access line: `_answer` logs one per request, naming the function and
            the duration, which the standard line cannot."""

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

    server = FrontDoor((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="horizon-http", daemon=True).start()
    return server
