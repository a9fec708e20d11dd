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

OPEN_PATHS = ("/health", "/openapi.json", "/docs", "/")
"""GET routes that need no token: mirrors `functions.api.OPEN_ROUTES` (the infra does not import functions)."""

OPEN_REASON = "Liveness and the OpenAPI document are public on purpose; every other route has the JWT authorizer."


class HttpApi(Construct):
    """An API Gateway HTTP API (payload format 2.0, what Powertools' APIGatewayHttpResolver reads).

    Routes follow `functions.routes`: one route for commands, and the `$default` catch-all for the
    queries, so a new GET route needs no infrastructure change. Every route has the JWT `authorizer` except
    the open GET routes (`OPEN_PATHS`). The `$default` stage auto-deploys, is throttled and writes JSON
    access logs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        command: lambda_.IFunction,
        query: lambda_.IFunction,
        stage: Stage,
        authorizer: apigwv2.IHttpRouteAuthorizer,
    ) -> None:
        super().__init__(scope, construct_id)
        queries = HttpLambdaIntegration("Queries", query)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            description="Horizon guest list: commands and queries",
            default_integration=queries,
            default_authorizer=authorizer,
            create_default_stage=False,
        )
        self.api.add_routes(
            path=COMMAND_PATH,
            methods=[apigwv2.HttpMethod(COMMAND_METHOD)],
            integration=HttpLambdaIntegration("Commands", command),
        )
        for path in OPEN_PATHS:
            for route in self.api.add_routes(
                path=path,
                methods=[apigwv2.HttpMethod.GET],
                integration=queries,
                authorizer=apigwv2.HttpNoneAuthorizer(),
            ):
                Validations.of(route).acknowledge(Acknowledgment(id="AwsSolutions-APIG4", reason=OPEN_REASON))
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
