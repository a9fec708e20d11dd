"""The local data plane: moto's DynamoDB, Streams, SQS, KMS and Secrets Manager over HTTP, kept on disk.

One process owns the data; everything else (the functions, the AWS CLI, NoSQL Workbench, scripts) talks to it
at its endpoint, the way they would talk to DynamoDB Local. Requests are served one at a time: moto's backends
are not thread-safe, and a transaction's conditions and writes must be atomic as they are on DynamoDB. The same
lock makes each snapshot consistent: it is taken between two requests, never inside one, so a restored state
is one that really existed, and the read models in it are never ahead of the events in it.

Pickling moto's state takes about a second per 10 MB of data, too long to hold every request back each
second. So the periodic snapshot forks (as Redis's BGSAVE does): under the lock the process forks, which costs
milliseconds, and the child pickles its frozen copy-on-write view of the state and writes it while the parent
serves on. The child touches nothing but that state and the file, so the locks other threads may hold at the
fork do not matter to it.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from horizon.local.journal import Journal, environ_of, record_of
from horizon.local.moto_patches import patch_moto
from horizon.local.persistence import Snapshots

logger = logging.getLogger(__name__)

READ_ONLY_PREFIXES = ("Get", "Query", "Scan", "Describe", "List", "BatchGet")
"""Actions (the X-Amz-Target suffix) that change nothing, so need no new snapshot."""

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DataPlane:
    """moto on `host:port` (port 0: any free port), kept in `data_dir`: a journal, and a snapshot per `interval`."""

    def __init__(self, host: str, port: int, data_dir: Path | None, *, interval: float = 10.0) -> None:
        self._host, self._port = host, port
        self._snapshots = Snapshots(data_dir) if data_dir is not None else None
        self._journal = Journal(data_dir) if data_dir is not None else None
        self._interval = interval
        self._lock = threading.Lock()
        self._dirty = False
        self._writer: tuple[int, int] | None = None
        """(pid, journal generation) of the child writing a snapshot."""
        self._stop = threading.Event()
        self._server: Any = None
        self._threads: list[threading.Thread] = []
        self.restored = False
        self.replayed = 0

    @property
    def endpoint_url(self) -> str:
        """Where the data plane listens, e.g. http://127.0.0.1:8000."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Restore the last snapshot and replay the journal after it, then serve; OSError if the port is taken."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        patch_moto()
        moto = DomainDispatcherApplication(create_backend_app)
        if self._snapshots is not None and self._journal is not None:
            since = self._snapshots.restore()
            self.restored = since is not None
            for record in self._journal.records(since or 0):
                b"".join(moto(environ_of(record), lambda *_: None))
                self.replayed += 1
            self.restored = self.restored or self.replayed > 0
            self._journal.start(max([since or 0, *self._journal.generations()]) + 1)
            self._dirty = self.replayed > 0
        app = self._serialized(moto)
        try:
            self._server = make_server(self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        except SystemExit as exit:  # werkzeug reports a taken port by printing and exiting
            raise OSError(errno.EADDRINUSE, "Address already in use") from exit
        self._server.socket.listen(128)  # werkzeug's default backlog; a burst of clients must not be refused
        self._threads = [threading.Thread(target=self._server.serve_forever, name="horizon-data", daemon=True)]
        if self._snapshots is not None:
            self._threads.append(threading.Thread(target=self._save_every_interval, name="horizon-save", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop serving and save what changed since the last snapshot."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
        for thread in self._threads:
            thread.join(timeout=10)
        self._writer_finished(wait=True)  # an older snapshot must not land after the last one
        self.save()
        if self._journal is not None:
            self._journal.close()

    def save(self) -> None:
        """Write a snapshot now, in this process, if anything changed since the last one."""
        if self._snapshots is None or self._journal is None:
            return
        with self._lock:
            if not self._dirty:
                return
            generation = self._journal.generation + 1
            self._journal.start(generation)
            blob = self._snapshots.capture(generation)
            self._dirty = False
        # Writing the file needs no lock: the bytes already are one consistent state.
        self._snapshots.write(blob)
        self._journal.drop_before(generation)

    def save_in_background(self) -> None:
        """Fork a child that writes a snapshot, if anything changed and the last child is done."""
        snapshots, journal = self._snapshots, self._journal
        if snapshots is None or journal is None or not self._writer_finished(wait=False):
            return
        with self._lock:
            if not self._dirty:
                return
            generation = journal.generation + 1
            journal.start(generation)
            pid = os.fork()
            if pid == 0:  # the child: moto's state as it is at this instant, between two requests
                code = 1
                try:
                    snapshots.write(snapshots.capture(generation))
                    code = 0
                finally:
                    os._exit(code)
            self._writer, self._dirty = (pid, generation), False

    def _writer_finished(self, *, wait: bool) -> bool:
        if self._writer is None:
            return True
        (writer, generation) = self._writer
        pid, status = os.waitpid(writer, 0 if wait else os.WNOHANG)
        if pid == 0:
            return False
        self._writer = None
        if status == 0 and self._journal is not None:
            self._journal.drop_before(generation)
        else:
            # The journals are all still there, so nothing is lost; the next snapshot tries again.
            logger.error("saving the local data failed (status %s); trying again", status)
            with self._lock:
                self._dirty = True
        return True

    def _save_every_interval(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.save_in_background()
            except Exception:
                logger.exception("saving the local data failed; retrying in %s s", self._interval)

    def _serialized(self, app: WsgiApp) -> WsgiApp:
        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            action = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
            changes = not action.startswith(READ_ONLY_PREFIXES)
            record = None
            if changes and self._journal is not None:
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(body)
                record = record_of(environ, body)
            status: list[str] = []

            def remember(code: str, headers: Any, *rest: Any) -> Any:
                status.append(code)
                return start_response(code, headers, *rest)

            with self._lock:
                answer = b"".join(app(environ, remember))
                if action == "ReceiveMessage" and b'"Messages"' not in answer:
                    # The queue pollers ask several times a second; an empty answer changed nothing worth keeping.
                    changes = False
                if changes:
                    self._dirty = True
                    if record is not None and self._journal is not None and status and status[0].startswith("2"):
                        self._journal.append(record)
            return [answer]

        return serve
