"""The five Lambda functions, built from one shared code asset, each with its own role and log group."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from horizon import telemetry
from horizon.idempotency import COLLECTION as IDEMPOTENCY_COLLECTION
from infra.bundling import lambda_code
from infra.privacy import PersonalData
from infra.stage import Stage
from infra.tables import EventStoreTables

RUNTIME = lambda_.Runtime.PYTHON_3_14
"""The newest Python runtime aws-cdk-lib knows; the bundler installs wheels for the same version."""


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
    "Saga": FunctionSpec(
        "functions.saga.handler", "horizon-saga", "Event stream to saga commands", 512, STREAM_TIMEOUT
    ),
    "CatchUp": FunctionSpec(
        "functions.catch_up.handler", "horizon-catch-up", "One Scan segment of a catch-up", 1024, CATCH_UP_TIMEOUT
    ),
}


XRAY_REASON = (
    "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions; Lambda's active "
    "tracing grants them on '*' and nothing else."
)
KMS_REASON = (
    "The table grants name the stage's table key only; GenerateDataKey* and ReEncrypt* are the DynamoDB "
    "encryption-context actions that key needs, as the CDK's table grants list them."
)


class HorizonFunctions(Construct):
    """Command and query API functions, projector and saga stream consumers.

    Each function gets its own role, with only CloudWatch Logs write access to its own log group. The
    table grants below give the rest of its access:

    - command: reads and writes the events table (load history, append commits); in the read table, only the
      `_idempotency` partition (Idempotency-Key records), by an IAM condition on the partition key;
    - query: reads both tables (read models, and event histories for /aggregates/.../events);
    - projector: reads events (gap repair) and reads/writes the read table (documents plus tracking);
    - saga: reads/writes both, as it keeps its state and outbox in the read table and dispatches commands;
    - catch-up: reads/writes both (a saga caught up sends commands), one Scan segment per invocation.
    - personal data (infra/privacy.py): command and saga create data keys, all four read and unwrap them.

    The stream-read grants are added by the event source mappings (infra/streams.py).
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
            **personal.environment(),
        }
        built = {name: self._function(name, spec, code, environment) for name, spec in SPECS.items()}
        self.by_name: dict[str, lambda_.Function] = built
        self.services = {name: spec.service for name, spec in SPECS.items()}
        self.command = built["Command"]
        self.query = built["Query"]
        self.projector = built["Projector"]
        self.saga = built["Saga"]
        self.catch_up = built["CatchUp"]

        for function in built.values():
            assert function.role is not None
            Validations.of(function.role).acknowledge(
                Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=XRAY_REASON)
            )
            if stage.table_cmk:
                for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
                    Validations.of(function.role).acknowledge(
                        Acknowledgment(id=f"AwsSolutions-IAM5[Action::{action}]", reason=KMS_REASON)
                    )

        tables.events.grant_read_write_data(self.command)
        self.command.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"],
                resources=[tables.read.table_arn],
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [IDEMPOTENCY_COLLECTION]}},
            )
        )
        if tables.read.encryption_key is not None:  # a customer-managed key (table_cmk): the records need it too
            tables.read.encryption_key.grant_encrypt_decrypt(self.command)
        tables.events.grant_read_data(self.query)
        tables.read.grant_read_data(self.query)
        tables.events.grant_read_data(self.projector)
        tables.read.grant_read_write_data(self.projector)
        tables.events.grant_read_write_data(self.saga)
        tables.read.grant_read_write_data(self.saga)
        # Catching a saga up sends its commands, so catch-up writes both tables, as the saga does.
        tables.events.grant_read_write_data(self.catch_up)
        tables.read.grant_read_write_data(self.catch_up)
        # Commands seal (the saga sends commands, and so does a saga's catch-up); every function opens sealed fields.
        for function, writes in (
            (self.command, True),
            (self.saga, True),
            (self.query, False),
            (self.projector, False),
            (self.catch_up, True),
        ):
            personal.grant(function, writes=writes)

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
        log_group.grant_write(role)
        return lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=code,
            handler=spec.handler,
            description=f"Horizon: {spec.description}",
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            role=role,
            log_group=log_group,
            # X-Ray: Powertools' Tracer annotates each invocation with the command type and aggregate.
            tracing=lambda_.Tracing.ACTIVE,
            environment={**environment, "POWERTOOLS_SERVICE_NAME": spec.service},
        )
