"""The five Lambda functions, built from one shared code asset, each with its own role and log group."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Annotations, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.snapstart import ENV as SNAPSTART_ENV
from horizon import telemetry
from infra import permissions
from infra.bundling import lambda_code
from infra.permissions import Grant, Resource
from infra.privacy import PersonalData
from infra.stage import Stage
from infra.tables import EventStoreTables

LIVE_ALIAS = "live"
"""With SnapStart on, every trigger (HTTP API, event source mappings, Step Functions) invokes this alias of the
function's current published version, never $LATEST, which SnapStart does not snapshot."""
SNAPSTART_REQUIRES_PUBLISH = "@aws-cdk/aws-lambda:snapStartRequirePublish"
"""The CDK's warning that SnapStart needs a published version: each function publishes one (LIVE_ALIAS)."""

RUNTIME = lambda_.Runtime.PYTHON_3_14
"""The newest Python runtime aws-cdk-lib knows; the bundler installs wheels for the same version."""
ARCHITECTURE = lambda_.Architecture.ARM_64
"""Every function's (infra/bundling.py's PLATFORMS match it); bench/cost.py prices duration by it."""


@dataclass(frozen=True)
class FunctionSpec:
    """How one function differs from the others."""

    handler: str
    service: str
    description: str
    memory_mb: int
    timeout: Duration


API_TIMEOUT = Duration.seconds(10)
STREAM_TIMEOUT = Duration.seconds(60)
CATCH_UP_TIMEOUT = Duration.minutes(15)
"""Lambda's ceiling: a segment must finish within it, which sets how many segments a catch-up needs."""

SPECS = {
    "Command": FunctionSpec(
        "functions.command_api.handler", "horizon-commands", "POST /commands/{command_type}", 512, API_TIMEOUT
    ),
    "Query": FunctionSpec("functions.query_api.handler", "horizon-queries", "Every GET route", 512, API_TIMEOUT),
    "Projector": FunctionSpec(
        "functions.projector.handler", "horizon-projector", "Event stream to read models", 512, STREAM_TIMEOUT
    ),
    "Saga": FunctionSpec("functions.saga.handler", "horizon-saga", "Its queue to saga commands", 512, STREAM_TIMEOUT),
    "Fanout": FunctionSpec(
        "functions.fanout.handler", "horizon-fanout", "Event stream to the fan-out topic", 256, STREAM_TIMEOUT
    ),
    "CatchUp": FunctionSpec(
        "functions.catch_up.handler", "horizon-catch-up", "One Scan segment of a catch-up", 1024, CATCH_UP_TIMEOUT
    ),
}


NO_RESOURCE_REASON = (
    "Only actions without resource-level permissions are granted on '*': X-Ray's PutTraceSegments and "
    "PutTelemetryRecords (active tracing) and dynamodb:ListStreams (the stream mapping); every other action names "
    "its table, stream, queue, key or log group (infra/permissions.py)."
)
TABLE_KEY_REASON = (
    "GenerateDataKey* and ReEncrypt* on the stage's table key only: what DynamoDB does with a customer-managed "
    "table key for a caller that writes its tables."
)


def statements(grants: Iterable[Grant], arns: Mapping[Resource, str | Sequence[str]]) -> list[iam.PolicyStatement]:
    """One statement per resource (and partition limit), its actions sorted: a stable, readable policy. A resource
    may name several ARNs (every queued consumer's queue)."""
    grouped: dict[tuple[Resource, tuple[str, ...]], set[str]] = {}
    for grant in grants:
        grouped.setdefault((grant.resource, grant.partitions), set()).add(grant.action)
    built = []
    for (resource, partitions), actions in sorted(grouped.items()):
        # dynamodb:LeadingKeys is the partition key of each item the request touches.
        conditions = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(partitions)}} if partitions else None
        named = arns[resource]
        resources = [named] if isinstance(named, str) else list(named)
        built.append(iam.PolicyStatement(actions=sorted(actions), resources=resources, conditions=conditions))
    return built


def acknowledged(grants: Iterable[Grant]) -> dict[str, str]:
    """The cdk-nag findings a role raises, each with why IAM allows no narrower grant."""
    # Active tracing grants the X-Ray actions on '*' to every function, whatever else it may do.
    findings = {"AwsSolutions-IAM5[Resource::*]": NO_RESOURCE_REASON}
    for grant in grants:
        if grant.action.endswith("*"):
            findings[f"AwsSolutions-IAM5[Action::{grant.action}]"] = TABLE_KEY_REASON
    return findings


class HorizonFunctions(Construct):
    """Command and query API functions, projector and saga stream consumers, and the catch-up segment function.

    Each function gets its own role and nothing else: `grant_permissions` gives each role exactly its entry of
    infra/permissions.py (what its code calls, and what AWS does on its behalf), once every resource exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: EventStoreTables,
        guest_limit: int,
        stage: Stage,
        personal: PersonalData,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage
        code = lambda_code(RUNTIME)
        environment = {
            "EVENTS_TABLE": tables.events.table_name,
            "READ_TABLE": tables.read.table_name,
            "GUEST_LIMIT": str(guest_limit),
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_METRICS_NAMESPACE": telemetry.NAMESPACE,
            # Read by functions/observability.py: without the SDK, Lambda's active tracing still records each
            # invocation; with it, each DynamoDB call is a subsegment and each command an annotation.
            "POWERTOOLS_TRACE_DISABLED": str(not stage.xray_sdk).lower(),
            **personal.environment(),
        }
        self._log_groups: dict[str, logs.LogGroup] = {}
        built = {name: self._function(name, spec, code, environment) for name, spec in SPECS.items()}
        self.by_name: dict[str, lambda_.Function] = built
        self.live: dict[str, lambda_.IFunction] = {name: self._live(function) for name, function in built.items()}
        """What triggers invoke: the `live` alias with SnapStart on, the function itself ($LATEST) otherwise."""
        self.services = {name: spec.service for name, spec in SPECS.items()}
        self.command = built["Command"]
        self.query = built["Query"]
        self.projector = built["Projector"]
        self.saga = built["Saga"]
        self.catch_up = built["CatchUp"]
        self.fanout = built["Fanout"]

    def grant_permissions(self, arns: Mapping[Resource, str], queues: Mapping[str, str]) -> None:
        """Give each function's role exactly its grants (infra/permissions.py), on these resources' ARNs;
        `queues` names each queued consumer's own queue of the fan-out."""
        for name, function in self.by_name.items():
            assert function.role is not None
            wanted = permissions.grants(name, table_cmk=self._stage.table_cmk) - permissions.TRACING
            own = {**arns, Resource.LOG_GROUP: self._log_groups[name].log_group_arn, Resource.ANY: "*"}
            if name in queues:
                own[Resource.OWN_QUEUE] = queues[name]
            now = {grant for grant in wanted if grant.resource not in permissions.GRANTED_AT_SYNTHESIS}
            for statement in statements(now, own):
                function.add_to_role_policy(statement)
            for finding, reason in acknowledged(wanted).items():
                Validations.of(function.role).acknowledge(Acknowledgment(id=finding, reason=reason))

    def _live(self, function: lambda_.Function) -> lambda_.IFunction:
        if not self._stage.snapstart:
            return function
        Annotations.of(function).acknowledge_warning(SNAPSTART_REQUIRES_PUBLISH, "Published: the live alias's version")
        return function.add_alias(LIVE_ALIAS, description="The current version: SnapStart restores its snapshot")

    def _function(
        self, name: str, spec: FunctionSpec, code: lambda_.Code, environment: dict[str, str]
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, f"{name}Logs", retention=self._stage.log_retention, removal_policy=self._stage.removal_policy
        )
        # An explicit role instead of AWSLambdaBasicExecutionRole, which may write to every log group.
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Horizon {name.lower()} function",
        )
        self._log_groups[name] = log_group
        snapstart = self._stage.snapstart
        return lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=spec.handler,
            description=f"Horizon: {spec.description}",
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            role=role,
            log_group=log_group,
            # X-Ray in every stage: Lambda records each invocation's segment; where the stage turns the SDK on,
            # Powertools' Tracer adds the command type and aggregate. The CDK grants the two X-Ray actions itself
            # (permissions.TRACING).
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": spec.service,
                **({SNAPSTART_ENV: "1"} if snapstart else {}),
            },
            # SnapStart snapshots each published version after its init (and the priming hooks) ran. What it
            # excludes, this stack never uses: provisioned concurrency, EFS, and ephemeral storage above the
            # 512 MB default. Python 3.12+ on arm64 and X-Ray active tracing are supported (docs/cold-start.md).
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snapstart else None,
            # A replaced version is deleted rather than kept: a Python version's snapshot is billed as long as
            # the version exists, and only the live alias's version is ever invoked.
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY) if snapstart else None,
        )
