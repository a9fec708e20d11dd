"""What the framework reports about itself, and the names it reports under.

The framework never imports an observability library: it reports through `Telemetry`, which does nothing by
default. The Lambda entry points install one backed by Powertools (functions/observability.py), which writes
metrics as CloudWatch embedded metric format under NAMESPACE with the function's `service` as the dimension,
so the CDK stack (infra/monitoring.py) names each metric without guessing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

NAMESPACE = "Horizon"

COMMANDS_HANDLED = "CommandsHandled"
COMMANDS_REJECTED = "CommandsRejected"
COMMANDS_CONFLICTED = "CommandsConflicted"
"""Commands that lost every optimistic-concurrency retry (answered 503)."""
COMMANDS_RETRIED = "CommandRetries"
EVENTS_PROJECTED = "EventsProjected"
SAGA_DECISIONS = "SagaDecisions"
COMMITS_FAILED = "CommitsFailed"
"""Commits a stream function reported as failed; Lambda retries them, then sends them to the failure queue,
whose own NumberOfMessagesSent metric counts the dead letters."""
CONSUMER_LAG = "ConsumerLagMs"
"""Milliseconds from a commit's timestamp to the moment a consumer finished with it."""


class Telemetry:
    """Where the framework reports what it did; this base reports nowhere (tests, scripts, the CLI)."""

    def count(self, metric: str, value: float = 1) -> None:
        """Add `value` to a counter metric."""

    def milliseconds(self, metric: str, value: float) -> None:
        """Record a duration or lag in milliseconds."""

    def annotate(self, **values: str) -> None:
        """Attach searchable facts (command type, aggregate) to the current trace and later log lines."""


NOWHERE = Telemetry()


_current: ContextVar[Telemetry] = ContextVar("horizon_telemetry", default=NOWHERE)


def current() -> Telemetry:
    """The telemetry of the invocation in progress (NOWHERE outside one)."""
    return _current.get()


@contextmanager
def reporting_to(telemetry: Telemetry) -> Iterator[None]:
    """Within the block, framework code on this thread reports to `telemetry` (one Lambda invocation)."""
    token = _current.set(telemetry)
    try:
        yield
    finally:
        _current.reset(token)
