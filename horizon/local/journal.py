"""The data plane's write-ahead journal: every request that changed something since the last snapshot.

Each such request is appended, in the order the data plane served it, to the journal of the current
generation and handed to the operating system at once, so a killed process loses none of it. A snapshot starts
a new generation; once it is on disk, older journals are deleted. At start, the data plane loads the snapshot
and replays the journals from the snapshot's generation on, through moto, in order: the same requests on the
same state give the same state (stream sequence numbers included; timestamps and SQS message ids are new).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

PREFIX = "journal-"
KEPT_ENVIRON = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "SERVER_NAME", "SERVER_PORT")
"""What moto reads from a request besides its body and HTTP headers (the service comes from those)."""


def record_of(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The parts of a WSGI request that replaying it needs."""
    kept = {k: v for k, v in environ.items() if k.startswith("HTTP_") or k in KEPT_ENVIRON}
    return {"environ": {k: str(v) for k, v in kept.items()}, "body": body}


def environ_of(record: dict[str, Any]) -> dict[str, Any]:
    """A WSGI environ that replays `record`."""
    body: bytes = record["body"]
    return {
        **record["environ"],
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }


class Journal:
    """Journal files `journal-<generation>` under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.generation = 0
        self._file: IO[bytes] | None = None

    def generations(self) -> list[int]:
        """The generations on disk, oldest first."""
        return sorted(int(p.name.removeprefix(PREFIX)) for p in self.directory.glob(f"{PREFIX}*"))

    def records(self, since: int) -> Iterator[dict[str, Any]]:
        """Every record of the generations from `since` on, in order; a torn last record is ignored."""
        for generation in (g for g in self.generations() if g >= since):
            with self._path(generation).open("rb") as source:
                while True:
                    try:
                        yield pickle.load(source)  # our own file, written by append()
                    except (EOFError, pickle.UnpicklingError):
                        break

    def start(self, generation: int) -> None:
        """Append from now on to the journal of `generation`."""
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.generation = generation
        self._file = self._path(generation).open("ab")

    def append(self, record: dict[str, Any]) -> None:
        """Add one request and hand it to the operating system (it survives the process, if not the machine)."""
        assert self._file is not None, "start() first"
        pickle.dump(record, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.flush()

    def drop_before(self, generation: int) -> None:
        """Delete the journals a snapshot of `generation` has made redundant."""
        for old in (g for g in self.generations() if g < generation):
            self._path(old).unlink(missing_ok=True)

    def close(self) -> None:
        """Close the current journal file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _path(self, generation: int) -> Path:
        return self.directory / f"{PREFIX}{generation:08d}"
