"""The public HTTP API: POST /commands/{command_type} to the command function, every other route to queries."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from functions.routes import COMMAND_METHOD, COMMAND_PATH
from infra.stage import Stage

THROTTLE = apigwv2.ThrottleSettings(rate_limit=100, burst_limit=200)
"""Stage-wide limits: a reference deployment should not become a bill when someone finds its URL."""

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}

PUBLIC_REASON = (
    "The reference API is public by design: the guest list has no users to authenticate. A production "
    "deployment adds an authorizer (JWT or IAM) to the HTTP API; stage throttling caps abuse meanwhile."
)


class HttpApi(Construct):
    """An API Gateway HTTP API (payload format 2.0, what Powertools' APIGatewayHttpResolver reads).

    Routes follow `functions.routes`: one route for commands, and the `$default` catch-all for the
    queries, so a new GET route needs no infrastructure change. The `$default` stage auto-deploys, is
    throttled and writes JSON access logs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        command: lambda_.IFunction,
        query: lambda_.IFunction,
        stage: Stage,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            description="Horizon guest list: commands and queries",
            default_integration=HttpLambdaIntegration("Queries", query),
            create_default_stage=False,
        )
        self.api.add_routes(
            path=COMMAND_PATH,
            methods=[apigwv2.HttpMethod(COMMAND_METHOD)],
            integration=HttpLambdaIntegration("Commands", command),
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=THROTTLE,
            access_log_settings=JsonAccessLogs(access_logs),
        )
        # The stage URL ends in "/", which turns `$API/commands/…` into `//commands`; the endpoint does not.
        self.url = self.api.api_endpoint
        Validations.of(self.api).acknowledge(Acknowledgment(id="AwsSolutions-APIG4", reason=PUBLIC_REASON))


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """Access logs as one JSON object per request, written to `log_group`."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))
