"""The functions' observability: framework logs as Powertools JSON, LOG_LEVEL, EMF metrics, trace facts."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from functions.observability import observe, xray_sdk_on
from horizon import telemetry
from horizon.local.lambda_context import LocalContext

ROOT = Path(__file__).resolve().parents[2]


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_framework_log_line_is_json_with_the_service_correlation_id_and_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    observed = observe("horizon-test")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        observed.telemetry.annotate(command="AcceptInvite", aggregate_id="a-1")
        logging.getLogger("horizon.consumers").warning("a framework line")
        return {}

    observed.wrap(handler, correlation_id_path="headers.x")({"headers": {"x": "corr-1"}}, LocalContext("test"))
    (line,) = [line for line in _lines(capsys.readouterr().out) if line.get("message") == "a framework line"]
    assert line["service"] == "horizon-test"
    assert line["level"] == "WARNING"
    assert line["correlation_id"] == "corr-1"
    assert line["command"] == "AcceptInvite"
    assert line["aggregate_id"] == "a-1"
    assert line["function_name"] == "test"


def test_functions_running_at_once_in_one_process_each_label_their_own_framework_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The local stack runs the projector and the saga in threads of one process.
    both_inside = threading.Barrier(2, timeout=5)

    def function(service: str) -> Callable[[], Any]:
        observed = observe(service)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            both_inside.wait()  # each has routed the framework's logs before either logs
            logging.getLogger("horizon.consumers").warning("a line of %s", service)
            both_inside.wait()
            return {}

        return lambda: observed.wrap(handler)({}, LocalContext(service))

    threads = [threading.Thread(target=function(s)) for s in ("horizon-test-one", "horizon-test-two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = [line for line in _lines(capsys.readouterr().out) if str(line.get("message")).startswith("a line of")]
    assert sorted((line["message"], line["service"]) for line in lines) == [
        ("a line of horizon-test-one", "horizon-test-one"),
        ("a line of horizon-test-two", "horizon-test-two"),
    ]


def test_log_level_decides_what_the_framework_logs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    # A fresh service name: Powertools keeps one handler per service, bound to the stream it first saw.
    observed = observe("horizon-test-levels")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logging.getLogger("horizon.x").info("quiet")
        logging.getLogger("horizon.x").error("loud")
        return {}

    observed.wrap(handler)({}, LocalContext("test"))
    messages = [line["message"] for line in _lines(capsys.readouterr().out) if "message" in line]
    assert "loud" in messages
    assert "quiet" not in messages


def test_counts_and_lags_are_flushed_as_embedded_metrics_under_the_horizon_namespace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    observed = observe("horizon-projector")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        observed.telemetry.count(telemetry.EVENTS_PROJECTED, 3)
        observed.telemetry.milliseconds(telemetry.CONSUMER_LAG, 42.0)
        return {}

    observed.wrap(handler)({}, LocalContext("test"))
    (emf,) = [line for line in _lines(capsys.readouterr().out) if "_aws" in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Horizon"
    assert directive["Dimensions"] == [["service"]]
    assert emf["service"] == "horizon-projector"
    assert emf[telemetry.EVENTS_PROJECTED] == [3.0] or emf[telemetry.EVENTS_PROJECTED] == 3.0
    assert emf[telemetry.CONSUMER_LAG] in (42.0, [42.0])
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {telemetry.EVENTS_PROJECTED: "Count", telemetry.CONSUMER_LAG: "Milliseconds"}


def test_the_default_telemetry_reports_nowhere_and_never_fails() -> None:
    telemetry.NOWHERE.count(telemetry.COMMANDS_HANDLED)
    telemetry.NOWHERE.milliseconds(telemetry.CONSUMER_LAG, 1.0)
    telemetry.NOWHERE.annotate(command="X")


def test_the_local_stack_reads_one_text_line_per_record_with_its_context(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HORIZON_LOG_FORMAT", "text")
    observed = observe("horizon-test-text")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        observed.telemetry.annotate(command="CreateInvite", aggregate_id="a-2")
        logging.getLogger("domain.x").warning("readable")
        return {}

    observed.wrap(handler)({}, LocalContext("test"))
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "readable" in line]
    assert " WARNING horizon-test-text: readable  [" in line
    assert "command=CreateInvite" in line
    assert "aggregate_id=a-2" in line
    assert not line.startswith("{")


def test_the_local_runtime_keeps_its_own_log_handlers() -> None:
    observed = observe("horizon-test-runtime")
    observed.wrap(lambda event, context: {})({}, LocalContext("test"))
    other = observe("horizon-test-runtime-other")
    other.wrap(lambda event, context: {})({}, LocalContext("test"))
    assert logging.getLogger("horizon.local").handlers == logging.getLogger().handlers
    # However many functions routed the framework's logs, each record is handled once.
    framework = logging.getLogger("horizon").handlers
    assert len([h for h in framework if type(h).__module__ == "functions.observability"]) == 1
    assert not {observed.logger.registered_handler, other.logger.registered_handler} & set(framework)


def test_the_aws_sdk_never_logs_payloads_even_when_everything_else_is_at_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    logging.getLogger("botocore").setLevel(logging.NOTSET)
    logging.getLogger("botocore.endpoint").setLevel(logging.DEBUG)  # as boto3.set_stream_logger would
    observed = observe("horizon-test-debug")

    observed.wrap(lambda event, context: {})({}, LocalContext("test"))

    assert logging.getLogger("horizon").level == logging.DEBUG
    for name in ("botocore", "botocore.endpoint", "botocore.parsers", "urllib3"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name


LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "horizon-commands", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}


@pytest.mark.parametrize(
    ("env", "on"),
    [({}, False), (LAMBDA, True), ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}, False)],
)
def test_the_x_ray_sdk_is_wanted_only_on_lambda_and_only_when_tracing_is_not_disabled(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], on: bool
) -> None:
    for name in ("AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_TRACE_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert xray_sdk_on() is on


@pytest.mark.parametrize(("disabled", "traced"), [("true", False), ("false", True)])
def test_a_function_imports_the_x_ray_sdk_only_when_it_traces_and_annotates_its_log_lines_either_way(
    disabled: str, traced: bool
) -> None:
    # A process of its own: a Tracer on Lambda patches botocore for the whole process.
    probe = """
import json, sys
from functions import command_api
command_api.observed.telemetry.annotate(command="AcceptInvite")
print(json.dumps([
    any(m.startswith("aws_xray_sdk") for m in sys.modules),
    type(command_api.observed.tracer).__name__,
    command_api.observed.logger.get_current_keys(),
]))
"""
    env = {**os.environ, **LAMBDA, "POWERTOOLS_TRACE_DISABLED": disabled}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    imported, tracer, keys = json.loads(done.stdout.strip().splitlines()[-1])
    assert (imported, tracer) == ((True, "Tracer") if traced else (False, "Untraced"))
    assert keys["command"] == "AcceptInvite"
