"""Read-your-writes without sleeping: wait, bounded, until a read model reaches a version.

A command answers with the aggregate's version; a client that must see its own write asks the read side for
"this document at version N or later". The query waits with growing pauses, up to a deadline, reading strongly
consistent each time, and returns whatever it has then: the document's own version tells the caller whether
the wait succeeded. No fixed sleeps anywhere, and no wait at all when the projection is already there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from horizon.readstore import Document, ReadStore
from horizon.retry import READ_WAIT

MAX_WAIT_SECONDS = 2.0


def read_at_least(
    reads: ReadStore,
    collection: str,
    key: str,
    min_version: int,
    *,
    version_of: Callable[[Document], int],
    timeout: float = MAX_WAIT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Document | None:
    """The document once `version_of(document) >= min_version`, or as it is (maybe None) at the deadline."""
    deadline = clock() + timeout
    attempt = 0
    while True:
        document = reads.get(collection, key)
        if document is not None and version_of(document) >= min_version:
            return document
        left = deadline - clock()
        if left <= 0:
            return document
        attempt += 1
        sleep(min(READ_WAIT.pause(attempt), left))
