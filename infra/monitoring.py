"""Alarms, their topic, and a dashboard: what an operator watches (docs/deploy.md, "Operating it")."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions import subscriptions as wiring
from horizon import telemetry
from infra.stage import Stage

PERIOD = Duration.minutes(5)
ITERATOR_AGE_LIMIT = Duration.minutes(5)
"""A stream consumer this far behind is stuck or starved; records expire after 24 hours."""
CONSUMER_LAG_LIMIT = Duration.minutes(1)
"""Commit to read model, as the consumers measure it; locally it is tens of milliseconds."""
API_5XX_PERCENT = 1.0
"""A 5xx is a bug (README); more than 1% of requests over five minutes is an incident."""

SNS_KEY_REASON = (
    "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and alarm messages "
    "carry metric names and thresholds only, no data."
)


class Monitoring(Construct):
    """An SNS topic for alarms (e-mail subscription in prod), the alarms, and one dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        functions: Mapping[str, lambda_.Function],
        stream_functions: Mapping[str, lambda_.Function],
        queued_functions: Mapping[str, lambda_.Function],
        services: Mapping[str, str],
        api: apigwv2.HttpApi,
        failures: sqs.IQueue,
        dead_letters: Mapping[str, sqs.IQueue],
        queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Alarms", display_name=f"Horizon {stage.name} alarms", enforce_ssl=True)
        Validations.of(self.topic).acknowledge(Acknowledgment(id="AwsSolutions-SNS2", reason=SNS_KEY_REASON))
        if stage.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(stage.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        self._alarm(
            "FailureQueueNotEmpty",
            failures.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            threshold=0,
            description="A stream consumer gave up on a commit: see docs/delivery.md to re-drive it.",
        )
        for name, function in functions.items():
            self._alarm(
                f"{name}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=0,
                description=f"The {name.lower()} function failed an invocation.",
            )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=0,
                description=f"The {name.lower()} function was throttled.",
            )
        for name, function in stream_functions.items():
            self._alarm(
                f"{name}IteratorAge",
                function.metric("IteratorAge", period=PERIOD, statistic="Maximum"),
                threshold=ITERATOR_AGE_LIMIT.to_milliseconds(),
                description=f"The {name.lower()} function's stream mapping is behind.",
            )
        for name, queue in queues.items():
            self._alarm(
                f"{name}QueueAge",
                queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                threshold=ITERATOR_AGE_LIMIT.to_seconds(),
                description=f"The {name.lower()} function's queue is behind (its iterator age, for a queue).",
            )
        for name, queue in dead_letters.items():
            self._alarm(
                f"{name}DeadLettersNotEmpty",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=0,
                description=f"The {name.lower()} function gave up on a commit: see docs/delivery.md to re-drive it.",
            )
        consumers = [name for name in (*stream_functions, *queued_functions) if name != wiring.FANOUT]
        for name in consumers:
            self._alarm(
                f"{name}ConsumerLag",
                consumer_lag(services[name]),
                threshold=CONSUMER_LAG_LIMIT.to_milliseconds(),
                description=f"Commits take too long to reach the {name.lower()} function's consumers.",
            )
        api_5xx = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={
                "errors": api.metric_server_error(period=PERIOD, statistic="Sum"),
                "requests": api.metric_count(period=PERIOD, statistic="Sum"),
            },
            label="API 5xx %",
            period=PERIOD,
        )
        self._alarm("Api5xxRate", api_5xx, threshold=API_5XX_PERCENT, description="More than 1% of requests got 5xx.")

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"Horizon-{stage.name}")
        self.dashboard.add_widgets(
            graph("Commands", [horizon_metric(n, services["Command"]) for n in COMMAND_METRICS]),
            graph(
                "Consumers",
                [
                    horizon_metric(telemetry.EVENTS_PROJECTED, services["Projector"]),
                    horizon_metric(telemetry.SAGA_DECISIONS, services["Saga"]),
                    *(horizon_metric(telemetry.COMMITS_FAILED, services[n]) for n in consumers),
                    failures.metric_number_of_messages_sent(period=PERIOD, statistic="Sum", label="Dead letters"),
                    *(
                        queue.metric_number_of_messages_sent(period=PERIOD, statistic="Sum", label=f"{n} dead letters")
                        for n, queue in dead_letters.items()
                    ),
                ],
            ),
            graph("Consumer lag (ms)", [consumer_lag(services[n]) for n in consumers]),
            graph(
                "Iterator age (ms)", [f.metric("IteratorAge", statistic="Maximum") for f in stream_functions.values()]
            ),
        )
        self.dashboard.add_widgets(
            graph("Function errors", [f.metric_errors() for f in functions.values()]),
            graph("Throttles", [f.metric_throttles() for f in functions.values()]),
            graph("API", [api.metric_count(), api.metric_client_error(), api.metric_server_error()]),
            graph(
                "Failure and dead-letter queues",
                [
                    failures.metric_approximate_number_of_messages_visible(),
                    *(q.metric_approximate_number_of_messages_visible() for q in dead_letters.values()),
                ],
            ),
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, *, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            # No data means no traffic, not trouble.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)


COMMAND_METRICS = (
    telemetry.COMMANDS_HANDLED,
    telemetry.COMMANDS_REJECTED,
    telemetry.COMMANDS_CONFLICTED,
    telemetry.COMMANDS_RETRIED,
)


def horizon_metric(name: str, service: str, statistic: str = "Sum") -> cloudwatch.Metric:
    """One of Horizon's EMF metrics, as Powertools publishes it (namespace, `service` dimension)."""
    return cloudwatch.Metric(
        namespace=telemetry.NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=PERIOD,
    )


def consumer_lag(service: str) -> cloudwatch.Metric:
    """The worst commit-to-consumer lag a stream function (by its Powertools service name) reported."""
    return horizon_metric(telemetry.CONSUMER_LAG, service, statistic="Maximum")


def graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    """A dashboard graph, six units wide."""
    return cloudwatch.GraphWidget(title=title, left=metrics, width=6)
