"""One retry policy for everything Horizon retries itself; AWS errors are botocore's (`AWS_RETRIES`).

Horizon retries only what it knows is transient: a concurrent writer (ConcurrencyError, ReadModelConflict),
keys DynamoDB left unprocessed, and a read model that has not caught up yet. Each use names its policy here, so
the attempts and pauses of the whole framework are read in one place.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

AWS_RETRIES = {"mode": "standard", "total_max_attempts": 3}
"""botocore's standard mode: throttling and 5xx retried with jittered backoff, 3 attempts in all (its
`max_attempts` would count the retries only, a fourth attempt)."""


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries, pausing between them for a capped exponential backoff (full jitter if `jitter`)."""

    attempts: int
    base_seconds: float
    cap_seconds: float
    jitter: bool = True

    def pause(self, attempt: int, uniform: Callable[[float, float], float] = random.uniform) -> float:
        """How long to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        # Full jitter keeps writers racing for one hot item from colliding in lockstep again.
        return uniform(0, ceiling) if self.jitter else ceiling

    def run(
        self,
        operation: Callable[[], T],
        retry_on: type[Exception] | tuple[type[Exception], ...],
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[Exception, int], None] | None = None,
    ) -> T:
        """The result of `operation`, retried on `retry_on`; the last attempt's error is raised as it is.

        `on_retry(error, attempt)` hears of each failed attempt that will be retried (to log it).
        """
        for attempt in range(1, self.attempts + 1):
            try:
                return operation()
            except retry_on as error:
                if attempt == self.attempts:
                    raise
                if on_retry is not None:
                    on_retry(error, attempt)
                sleep(self.pause(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


STREAM_RETRIES = 10
"""Retries of a failed stream record after its first attempt: the event source mappings' MaximumRetryAttempts
(infra/streams.py) and the local poller's imitation of them."""

QUEUE_RECEIVES = 1 + STREAM_RETRIES
"""Deliveries of a fan-out message before its consumer's queue moves it to its dead-letter queue: the first and
as many retries as a stream record gets (infra/streams.py, and the local queues)."""

STREAM_REDELIVERY = RetryPolicy(attempts=1 + STREAM_RETRIES, base_seconds=0.1, cap_seconds=2.0, jitter=False)
"""The local pollers redeliver a failed record or message this often, with these pauses, before dead-lettering it."""

COMMAND_CONFLICTS = RetryPolicy(attempts=5, base_seconds=0.02, cap_seconds=0.32)
"""A command that lost the optimistic-concurrency race reloads and decides again; then 503 with Retry-After."""

CONSUMER_CONFLICTS = RetryPolicy(attempts=8, base_seconds=0.005, cap_seconds=0.1)
"""A projector or saga whose conditional commit lost to another instance reprocesses from fresh reads."""

UNPROCESSED_KEYS = RetryPolicy(attempts=8, base_seconds=0.01, cap_seconds=1.0)
"""BatchGetItem keys DynamoDB left unprocessed (throttled): ask again for the rest."""

READ_WAIT = RetryPolicy(attempts=1_000, base_seconds=0.02, cap_seconds=0.25, jitter=False)
"""Waiting for a read model to reach a version: growing pauses, bounded by the caller's deadline."""

RETRY_AFTER_SECONDS = 1
"""What a 503 tells a client to wait before sending the same command again."""

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "Throttling",
    }
)
"""DynamoDB error codes that mean "too fast": botocore retried them already, so the caller gets a 503."""


def is_throttling(error: BaseException) -> bool:
    """Whether an error is a botocore ClientError for throttling (checked without importing botocore)."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in THROTTLING_CODES
