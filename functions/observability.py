"""Powertools Logger, Metrics and Tracer for one Lambda function, and the framework's telemetry through them.

Every log line goes through the function's Powertools Logger, the framework's included: the `horizon` and
`domain` loggers hand their records to its handler, so they are JSON with the service, the correlation id and
the command and aggregate once known. `LOG_LEVEL` sets the level (POWERTOOLS_LOG_LEVEL still works). Metrics
are embedded-metric-format lines flushed at the end of each invocation; Powertools' Tracer is built only on
Lambda and only where the stage keeps the X-Ray SDK (docs/cold-start.md, "X-Ray").

Whatever the level, the AWS SDK's loggers stay at INFO or above: at DEBUG botocore prints every request and
response body, which here means read models with names in clear and KMS's plaintext data keys. Nor is the
incoming event ever logged (it carries the commands' personal data). docs/privacy.md lists what logs hold.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

from horizon.telemetry import NAMESPACE, Telemetry, reporting_to

FRAMEWORK_LOGGERS = ("horizon", "domain", "functions")
LOCAL_RUNTIME_LOGGERS = ("horizon.local", "functions.local")
"""The local stack's own front door and poller: not a function's lines, so they keep the process's handlers."""
PAYLOAD_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
"""Loggers that print request and response payloads at DEBUG: kept at INFO or above, whatever LOG_LEVEL says."""

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Tracing(Protocol):
    """What a function uses of Powertools' Tracer."""

    def capture_lambda_handler(self, lambda_handler: Handler, capture_response: bool) -> Handler:
        """`lambda_handler` wrapped in a trace segment of its own."""
        ...

    def put_annotation(self, key: str, value: str) -> None:
        """Attach a searchable fact to the current segment."""
        ...


class Untraced:
    """The Tracer's place when the X-Ray SDK is off: Lambda's active tracing still records each invocation."""

    def capture_lambda_handler(self, lambda_handler: Handler, capture_response: bool) -> Handler:
        """`lambda_handler` itself: no subsegments."""
        return lambda_handler

    def put_annotation(self, key: str, value: str) -> None:
        """Nothing: the fact still reaches the log lines (PowertoolsTelemetry.annotate)."""


def xray_sdk_on() -> bool:
    """Whether this function loads the X-Ray SDK: only on Lambda, and not when POWERTOOLS_TRACE_DISABLED is set."""
    from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

    disabled = resolve_truthy_env_var_choice(env=os.environ.get("POWERTOOLS_TRACE_DISABLED", "false"))
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


class _InvokingFunction(logging.Handler):
    """Hands a framework record to the Powertools handler of the function whose invocation logged it.

    On Lambda one function runs per process; the local stack and the tests run several at once in threads, and
    one shared handler would label a projector's lines with the saga's service and correlation id.
    """

    def __init__(self) -> None:
        super().__init__()
        self.latest: logging.Handler | None = None
        """The handler of the function that routed last: for records logged outside any invocation."""

    def emit(self, record: logging.LogRecord) -> None:
        """Format and write `record` through the invoking function's handler."""
        handler = _invoking.get() or self.latest
        if handler is not None:
            handler.handle(record)


_invoking: ContextVar[logging.Handler | None] = ContextVar("horizon_invoking_function", default=None)
_dispatch = _InvokingFunction()


class PowertoolsTelemetry(Telemetry):
    """Telemetry into one function's Metrics, Tracer and Logger."""

    def __init__(self, logger: Logger, metrics: Metrics, tracer: Tracing) -> None:
        self._logger = logger
        self._metrics = metrics
        self._tracer = tracer

    def count(self, metric: str, value: float = 1) -> None:
        """Add `value` to a counter metric."""
        self._metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)

    def milliseconds(self, metric: str, value: float) -> None:
        """Record a duration or lag in milliseconds."""
        self._metrics.add_metric(name=metric, unit=MetricUnit.Milliseconds, value=value)

    def annotate(self, **values: str) -> None:
        """Attach searchable facts (command type, aggregate) to the current trace and later log lines."""
        for key, value in values.items():
            self._tracer.put_annotation(key=key, value=value)
        self._logger.append_keys(**values)


@dataclass(frozen=True)
class Observability:
    """One function's logger, metrics and tracer, and the telemetry the framework reports through."""

    logger: Logger
    metrics: Metrics
    tracer: Tracing
    telemetry: PowertoolsTelemetry

    def wrap(self, handler: Handler, *, correlation_id_path: str | None = None) -> Handler:
        """The Lambda handler with a fresh log context per invocation, its metrics flushed, and a trace."""
        traced = self.tracer.capture_lambda_handler(handler, capture_response=False)
        measured = self.metrics.log_metrics(traced)
        # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds commands' personal data.
        logged: Handler = self.logger.inject_lambda_context(
            measured, correlation_id_path=correlation_id_path, clear_state=True, log_event=False
        )

        def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
            # Per invocation, not per import: the local stack and the tests load every function in one process.
            route_framework_logs(self.logger)
            token = _invoking.set(self.logger.registered_handler)
            try:
                with reporting_to(self.telemetry):
                    return logged(event, context)
            finally:
                _invoking.reset(token)

        return invoke


def observe(service: str) -> Observability:
    """Build one function's Powertools objects; the X-Ray SDK only when `xray_sdk_on()` (docs/cold-start.md)."""
    # An invocation that changed nothing has nothing to count; that is not worth a warning per invocation.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    level = os.environ.get("LOG_LEVEL") or os.environ.get("POWERTOOLS_LOG_LEVEL") or "INFO"
    # The local stack asks for text (HORIZON_LOG_FORMAT=text): one readable line per record, same fields.
    readable = os.environ.get("HORIZON_LOG_FORMAT") == "text"
    logger = Logger(service=service, level=level, logger_formatter=ReadableFormatter() if readable else None)
    metrics = Metrics(service=service, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))
    # Only botocore: patching every supported library would import them all on a cold start.
    tracer: Tracing = Untraced()
    if xray_sdk_on():
        # Imported here: the SDK builds a botocore client of its own at import (docs/cold-start.md, "X-Ray").
        from aws_lambda_powertools import Tracer

        tracer = Tracer(service=service, patch_modules=["botocore"])
    return Observability(logger, metrics, tracer, PowertoolsTelemetry(logger, metrics, tracer))


def quiet_payload_loggers() -> None:
    """Raise the AWS SDK's loggers, and any child given its own lower level, to INFO (never lower one above it)."""
    names = logging.root.manager.loggerDict
    for name in [*PAYLOAD_LOGGERS, *(n for n in list(names) if n.startswith(tuple(f"{p}." for p in PAYLOAD_LOGGERS)))]:
        sdk = logging.getLogger(name)
        # NOTSET inherits, maybe a DEBUG root (Lambda's log level, a test's caplog): pin it too, at the level it
        # inherits when that is higher (a WARNING root keeps botocore's INFO lines out, as it did before).
        if sdk.level < logging.INFO and (sdk.level != logging.NOTSET or name in PAYLOAD_LOGGERS):
            sdk.setLevel(max(logging.INFO, sdk.getEffectiveLevel()))


def route_framework_logs(logger: Logger) -> None:
    """Send the framework's stdlib log records through `logger`'s handler, at its level; quiet the AWS SDK."""
    quiet_payload_loggers()
    _dispatch.latest = logger.registered_handler
    for name in FRAMEWORK_LOGGERS:
        framework = logging.getLogger(name)
        if _dispatch not in framework.handlers:  # any other handler someone attached on purpose stays
            framework.addHandler(_dispatch)
        framework.setLevel(logger.log_level)
        framework.propagate = False
    for name in LOCAL_RUNTIME_LOGGERS:
        runtime = logging.getLogger(name)
        runtime.handlers = list(logging.getLogger().handlers)
        runtime.propagate = False


class ReadableFormatter(LambdaPowertoolsFormatter):
    """Powertools' record as one line of text: time, level, service, message, then the context it carries."""

    SHOWN = ("correlation_id", "command", "aggregate_id", "exception")

    def format(self, record: logging.LogRecord) -> str:
        entry = json.loads(super().format(record))
        context = " ".join(f"{key}={entry[key]}" for key in self.SHOWN if entry.get(key))
        line = f"{entry.get('timestamp', '')} {entry.get('level', '')} {entry.get('service', '')}: {entry['message']}"
        return f"{line}  [{context}]" if context else line
