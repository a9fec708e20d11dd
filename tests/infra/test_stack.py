"""The synthesized Horizon template: tables, functions, least privilege, HTTP API, stream mappings, cdk-nag."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk import App, CfnResource
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from infra.app import build_app
from infra.stack import HorizonStack

from .conftest import SKIP_BUNDLING

HANDLERS = {
    "command": "functions.command_api.handler",
    "query": "functions.query_api.handler",
    "projector": "functions.projector.handler",
    "saga": "functions.saga.handler",
    "catch_up": "functions.catch_up.handler",
    "fanout": "functions.fanout.handler",
}
WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
TIP_ONLY = {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"N": ["0"]}}}}


def logical_id(stack: HorizonStack, construct: Any) -> str:
    default_child = construct.node.default_child
    assert isinstance(default_child, CfnResource)
    return stack.get_logical_id(default_child)


def function_id(template: Template, handler: str) -> str:
    (found,) = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
    return found


def statements(template: Template, handler: str) -> list[dict[str, Any]]:
    """Every IAM statement granted to the role of the function running `handler`."""
    function = template.find_resources("AWS::Lambda::Function")[function_id(template, handler)]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role}]}})
    assert policies, f"no policy for {handler}"
    return [s for policy in policies.values() for s in policy["Properties"]["PolicyDocument"]["Statement"]]


def actions_on(template: Template, handler: str, resource_id: str) -> set[str]:
    """The actions the function may take on resources that mention `resource_id` (table, stream, index)."""
    found: set[str] = set()
    for statement in statements(template, handler):
        if resource_id in json.dumps(statement["Resource"]):
            action = statement["Action"]
            found |= {action} if isinstance(action, str) else set(action)
    return found


def test_the_events_table_is_keyed_pk_string_sk_number_with_a_new_image_stream(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_the_read_table_is_keyed_pk_string_sk_string_without_a_stream_and_expires_items_by_their_ttl(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": Match.absent(),
            "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_six_functions_run_their_handlers_on_arm64_python_3_14(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    assert sorted(f["Properties"]["Handler"] for f in functions.values()) == sorted(HANDLERS.values())
    for function in functions.values():
        assert function["Properties"]["Runtime"] == "python3.14"
        assert function["Properties"]["Architectures"] == ["arm64"]
        assert "LogGroup" in function["Properties"]["LoggingConfig"]


def test_the_functions_run_the_python_that_make_typecheck_checks_them_against() -> None:
    from infra.functions import RUNTIME
    from infra.lambda_python import LAMBDA_PYTHON

    assert RUNTIME.name == f"python{LAMBDA_PYTHON}"


def test_the_six_functions_share_one_code_asset(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function").values()
    assert len({json.dumps(f["Properties"]["Code"], sort_keys=True) for f in functions}) == 1


def test_every_function_is_told_both_tables_and_the_guest_limit(template: Template, stack: HorizonStack) -> None:
    events, read = logical_id(stack, stack.tables.events), logical_id(stack, stack.tables.read)
    for function in template.find_resources("AWS::Lambda::Function").values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["EVENTS_TABLE"] == {"Ref": events}
        assert env["READ_TABLE"] == {"Ref": read}
        assert env["GUEST_LIMIT"] == "2"
        assert env["POWERTOOLS_SERVICE_NAME"].startswith("horizon-")


def test_api_functions_answer_within_10_seconds_stream_functions_within_60_and_catch_up_within_15_minutes(
    template: Template,
) -> None:
    functions = template.find_resources("AWS::Lambda::Function").values()
    timeouts = {f["Properties"]["Handler"]: f["Properties"]["Timeout"] for f in functions}
    assert timeouts == {
        HANDLERS["command"]: 10,
        HANDLERS["query"]: 10,
        HANDLERS["projector"]: 60,
        HANDLERS["saga"]: 60,
        HANDLERS["catch_up"]: 900,
        HANDLERS["fanout"]: 60,
    }


def test_dev_logs_are_kept_for_a_week(template: Template) -> None:
    for log_group in template.find_resources("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] == 7


def test_no_function_role_carries_a_managed_policy(template: Template) -> None:
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_the_query_function_reads_both_tables_and_writes_neither(template: Template, stack: HorizonStack) -> None:
    for table in (stack.tables.events, stack.tables.read):
        actions = actions_on(template, HANDLERS["query"], logical_id(stack, table))
        assert "dynamodb:Query" in actions
        assert not actions & WRITES


def test_the_projector_writes_the_read_table_only(template: Template, stack: HorizonStack) -> None:
    assert not actions_on(template, HANDLERS["projector"], logical_id(stack, stack.tables.events)) & WRITES
    assert actions_on(template, HANDLERS["projector"], logical_id(stack, stack.tables.read)) & WRITES


def stream_mappings(template: Template, stack: HorizonStack) -> list[Mapping[str, Any]]:
    """The event source mappings that read the events table's stream."""
    stream = {"Fn::GetAtt": [logical_id(stack, stack.tables.events), "StreamArn"]}
    mappings = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    return [m for m in mappings if m["Properties"]["EventSourceArn"] == stream]


def test_the_projector_and_the_fan_out_are_the_streams_only_readers(template: Template, stack: HorizonStack) -> None:
    mappings = stream_mappings(template, stack)
    targets = {m["Properties"]["FunctionName"]["Ref"] for m in mappings}
    assert targets == {function_id(template, HANDLERS["projector"]), function_id(template, HANDLERS["fanout"])}


def test_stream_mappings_retry_failed_records_and_send_the_rest_to_the_queue(
    template: Template, stack: HorizonStack
) -> None:
    queue = logical_id(stack, stack.consumers.failures)
    for mapping in stream_mappings(template, stack):
        properties = mapping["Properties"]
        assert properties["StartingPosition"] == "TRIM_HORIZON"
        assert properties["BatchSize"] == 100
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert properties["BisectBatchOnFunctionError"] is False
        assert properties["MaximumRetryAttempts"] == 10
        assert properties["MaximumRecordAgeInSeconds"] <= 24 * 3600
        assert properties["ParallelizationFactor"] == 2
        assert properties["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}}


def test_stream_mappings_deliver_only_tip_records(template: Template, stack: HorizonStack) -> None:
    for mapping in stream_mappings(template, stack):
        filters = mapping["Properties"]["FilterCriteria"]["Filters"]
        assert [json.loads(f["Pattern"]) for f in filters] == [TIP_ONLY]


def test_the_failure_queue_is_encrypted_keeps_14_days_and_refuses_plain_http(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_the_http_api_sends_commands_to_the_command_function_and_the_rest_to_queries(template: Template) -> None:
    integrations = template.find_resources("AWS::ApiGatewayV2::Integration")
    target_of = {
        f"integrations/{key}": i["Properties"]["IntegrationUri"]["Fn::GetAtt"][0] for key, i in integrations.items()
    }
    routes = {
        r["Properties"]["RouteKey"]: target_of["".join(str(p) for p in _join(r["Properties"]["Target"]))]
        for r in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        "POST /commands/{command_type}": function_id(template, HANDLERS["command"]),
        "$default": function_id(template, HANDLERS["query"]),
        "GET /health": function_id(template, HANDLERS["query"]),
        "GET /openapi.json": function_id(template, HANDLERS["query"]),
        "GET /docs": function_id(template, HANDLERS["query"]),
        "GET /": function_id(template, HANDLERS["query"]),
    }


def _join(target: dict[str, Any]) -> list[str]:
    """`{"Fn::Join": ["", ["integrations/", {"Ref": "X"}]]}` → ["integrations/", "X"]."""
    return [part["Ref"] if isinstance(part, dict) else part for part in target["Fn::Join"][1]]


def test_the_default_stage_is_throttled_and_writes_access_logs(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100},
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
        },
    )


def test_the_stack_outputs_the_api_url_without_a_trailing_slash(template: Template) -> None:
    # The HTTP API's endpoint is `https://{api-id}.execute-api.{region}.amazonaws.com`, with no path; the
    # stage URL would end in "/" and turn `$API/commands/...` into `//commands`.
    url = template.find_outputs("ApiUrl")["ApiUrl"]["Value"]
    assert url["Fn::GetAtt"][1] == "ApiEndpoint"


def test_cdk_nag_finds_nothing_unacknowledged(app_and_stack: tuple[App, HorizonStack]) -> None:
    app, stack = app_and_stack
    report = AwsSolutionsChecks(app).validate_scope(stack)
    findings = [
        f"{v.severity} {v.rule_name} at {[r.construct_path for r in v.violating_resources]}" for v in report.violations
    ]
    assert findings == []
    assert report.success


def test_the_app_fails_synthesis_on_an_unacknowledged_finding() -> None:
    app, stack = build_app(SKIP_BUNDLING)
    sqs.Queue(stack, "PlainHttpQueue")  # no enforce_ssl, no DLQ: AwsSolutions-SQS3 and -SQS4
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS4"):
        app.synth()
