"""Observability on AWS: X-Ray on every function, alarms wired to one topic, a dashboard, a lint-clean template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from functions import subscriptions
from infra.functions import SPECS
from infra.stack import HorizonStack
from infra.stage import stage_of

from .conftest import SKIP_BUNDLING


def test_every_function_traces_with_x_ray(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function").values()
    assert [f["Properties"]["TracingConfig"] for f in functions] == [{"Mode": "Active"}] * len(SPECS)


def test_dev_functions_leave_the_x_ray_sdk_out_of_their_cold_start(template: Template) -> None:
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"


@pytest.mark.parametrize(
    ("context", "on"),
    [
        ({}, False),
        ({"stage": "prod"}, True),
        ({"snapstart": "true"}, True),
        ({"stage": "prod", "snapstart": "false"}, False),
        ({"xray_sdk": "true"}, True),
        ({"stage": "prod", "xray_sdk": "false"}, False),
    ],
)
def test_the_x_ray_sdk_follows_snapstart_unless_the_context_decides(context: dict[str, str], on: bool) -> None:
    assert stage_of(App(context=context)).xray_sdk is on


def test_an_x_ray_sdk_value_other_than_true_or_false_stops_the_synth() -> None:
    with pytest.raises(ValueError, match="xray_sdk"):
        stage_of(App(context={"xray_sdk": "maybe"}))


def test_every_function_publishes_metrics_under_the_horizon_namespace(template: Template) -> None:
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "Horizon"


def test_alarms_cover_dead_letters_iterator_age_errors_throttles_5xx_and_lag(template: Template) -> None:
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    metrics = {a["Properties"].get("MetricName") for a in alarms}
    assert {"ApproximateNumberOfMessagesVisible", "IteratorAge", "Errors", "Throttles", "ConsumerLagMs"} <= metrics
    per_metric = {m: sum(a["Properties"].get("MetricName") == m for a in alarms) for m in metrics}
    assert per_metric["Errors"] == per_metric["Throttles"] == len(SPECS)
    assert per_metric["IteratorAge"] == per_metric["ConsumerLagMs"] == 2
    (rate,) = [a for a in alarms if "Metrics" in a["Properties"]]
    expressions = [m.get("Expression") for m in rate["Properties"]["Metrics"]]
    assert any(e and "errors / requests" in e for e in expressions)


def test_every_alarm_notifies_the_alarm_topic_and_tolerates_silence(template: Template, stack: HorizonStack) -> None:
    topic = stack.get_logical_id(stack.monitoring.topic.node.default_child)  # type: ignore[arg-type]
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    readers, queued = len(subscriptions.STREAM_READERS), len(subscriptions.QUEUED)
    lag = readers - 1 + queued  # every consumer; the fan-out only passes commits on
    assert len(alarms) == 1 + len(SPECS) * 2 + readers + 2 * queued + lag + 1
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_a_dashboard_shows_the_commands_consumers_and_functions(template: Template) -> None:
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in (
        "CommandsHandled",
        "CommandsRejected",
        "EventsProjected",
        "SagaDecisions",
        "ConsumerLagMs",
        "CommitsFailed",
        "NumberOfMessagesSent",
    ):
        assert name in body


CDK_REDUNDANT_DEPENDS_ON = "W3005"
"""The CDK adds a DependsOn on each function's role and policy next to the GetAtt that already orders them."""


@pytest.mark.parametrize("context", [{}, {"stage": "prod", "alarm_email": "ops@example.com", "table_cmk": "true"}])
def test_the_synthesized_template_is_cfn_lint_clean(context: dict[str, Any]) -> None:
    from cfnlint.api import ManualArgs, lint

    from infra.app import build_app

    _, stack = build_app({**SKIP_BUNDLING, **context}, nag=False)
    template = json.dumps(Template.from_stack(stack).to_json())
    config = ManualArgs(ignore_checks=[CDK_REDUNDANT_DEPENDS_ON], regions=["us-east-1"])
    findings = [f"{m.rule.id} {m.message} at {m.path}" for m in lint(template, config=config)]
    assert findings == []
