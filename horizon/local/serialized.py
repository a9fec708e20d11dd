"""One boto3 call at a time: moto's backends are not thread-safe, DynamoDB is.

moto checks a transaction's conditions and applies its writes without a lock, so two threads can both pass
`version = :expected`. Serializing each call restores DynamoDB's per-call atomicity while requests, the stream
poller and the functions still run concurrently around the calls, so conflicts and retries happen locally
the way they do on AWS.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

ClientT = TypeVar("ClientT")


class SerializedClient:
    """Proxy a boto3 client so that its API calls hold one shared lock; other attributes pass through."""

    def __init__(self, client: Any, lock: threading.RLock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in ("exceptions", "meta") or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


def serialized(client: ClientT, lock: threading.RLock) -> ClientT:
    """`client`, typed as itself, with every API call serialized on `lock`."""
    return SerializedClient(client, lock)  # type: ignore[return-value]


HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def one_at_a_time(handler: HandlerT) -> HandlerT:
    """A Lambda handler that runs one invocation at a time, like a single execution environment.

    Handlers keep per-invocation state on module-level objects (Powertools' resolver holds the current event),
    which is safe on Lambda, where an environment never runs two invocations at once, and unsafe under the
    local server's threads without this.
    """
    lock = threading.Lock()

    @functools.wraps(handler)
    def invoke(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return handler(*args, **kwargs)

    return invoke  # type: ignore[return-value]
