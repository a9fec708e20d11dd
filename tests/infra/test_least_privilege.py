"""Each function's role in the synthesized template is exactly its entry of infra/permissions.py, in both stages.

tests/integration/test_least_privilege.py holds the code to the same table (a recorded run on moto), so the
template and the code cannot drift apart: a call without a grant, or a grant no code uses, fails one of the two.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import CfnResource
from aws_cdk.assertions import Template
from constructs import IConstruct

from functions import subscriptions
from infra import permissions
from infra.app import build_app
from infra.permissions import CLAIMS, Grant, Resource
from infra.stack import HorizonStack

from .conftest import SKIP_BUNDLING

PROD = {**SKIP_BUNDLING, "stage": "prod", "alarm_email": "ops@example.com", "table_cmk": "true"}
LEADING_KEYS = "ForAllValues:StringLike"

Triple = tuple[str, Resource | str, tuple[str, ...]]


@pytest.fixture(scope="module")
def prod() -> tuple[HorizonStack, Template]:
    _, stack = build_app(PROD, nag=False)
    return stack, Template.from_stack(stack)


def logical_id(stack: HorizonStack, construct: IConstruct) -> str:
    default_child = construct.node.default_child
    assert isinstance(default_child, CfnResource)
    return stack.get_logical_id(default_child)


def resource_names(stack: HorizonStack, function: str) -> dict[str, Resource]:
    """How the template spells each resource a grant can name, for `function`'s role."""
    attribute = {
        Resource.EVENTS: (stack.tables.events, "Arn"),
        Resource.EVENTS_STREAM: (stack.tables.events, "StreamArn"),
        Resource.READ: (stack.tables.read, "Arn"),
        Resource.KEYS: (stack.personal.keys, "Arn"),
        Resource.DATA_KEY_WRAPPER: (stack.personal.wrapper, "Arn"),
        Resource.FAILURES: (stack.consumers.failures, "Arn"),
        Resource.LOG_GROUP: (stack.functions.by_name[function].log_group, "Arn"),
    }
    if stack.tables.key is not None:
        attribute[Resource.TABLE_KEY] = (stack.tables.key, "Arn")
    names = {json.dumps({"Fn::GetAtt": [logical_id(stack, c), a]}): r for r, (c, a) in attribute.items()}
    # A secret's ARN is its Ref.
    names[json.dumps({"Ref": logical_id(stack, stack.personal.claims_secret)})] = Resource.CLAIMS_SECRET
    for queue in stack.consumers.queues.values():  # the dispatcher sends to each; its consumer's OWN_QUEUE below
        names[json.dumps({"Fn::GetAtt": [logical_id(stack, queue), "Arn"]})] = Resource.QUEUED_CONSUMERS
    if function in stack.consumers.queues:
        names[json.dumps({"Fn::GetAtt": [logical_id(stack, stack.consumers.queues[function]), "Arn"]})] = (
            Resource.OWN_QUEUE
        )
    return names | {json.dumps("*"): Resource.ANY}


def role_grants(stack: HorizonStack, template: Template, function: str) -> set[Triple]:
    """(action, resource, partition limit) for every statement of the function's role, unknown ones verbatim."""
    role = logical_id(stack, stack.functions.by_name[function].role)  # type: ignore[arg-type]
    names = resource_names(stack, function)
    found: set[Triple] = set()
    for policy in template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role}]}}).values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            partitions = leading_keys(statement.get("Condition"))
            for action in actions:
                for resource in resources:
                    spelled = json.dumps(resource)
                    found.add((action, names.get(spelled, spelled), partitions))
    return found


def leading_keys(condition: dict[str, Any] | None) -> tuple[str, ...]:
    if condition is None:
        return ()
    assert condition == {LEADING_KEYS: {"dynamodb:LeadingKeys": condition[LEADING_KEYS]["dynamodb:LeadingKeys"]}}
    return tuple(condition[LEADING_KEYS]["dynamodb:LeadingKeys"])


def triples(grants: frozenset[Grant]) -> set[Triple]:
    return {(grant.action, grant.resource, grant.partitions) for grant in grants}


@pytest.mark.parametrize("function", sorted(permissions.CODE))
def test_each_role_is_exactly_its_functions_grants_in_dev(
    stack: HorizonStack, template: Template, function: str
) -> None:
    granted = role_grants(stack, template, function)
    wanted = triples(permissions.grants(function, table_cmk=False))
    assert {"extra": granted - wanted, "missing": wanted - granted} == {"extra": set(), "missing": set()}


@pytest.mark.parametrize("function", sorted(permissions.CODE))
def test_each_role_is_exactly_its_functions_grants_with_a_customer_managed_table_key(
    prod: tuple[HorizonStack, Template], function: str
) -> None:
    stack, template = prod
    granted = role_grants(stack, template, function)
    wanted = triples(permissions.grants(function, table_cmk=True))
    assert {"extra": granted - wanted, "missing": wanted - granted} == {"extra": set(), "missing": set()}


def test_no_role_may_delete_an_event_and_only_commands_write_the_events_table(
    stack: HorizonStack, template: Template
) -> None:
    writers = set()
    for function in stack.functions.by_name:
        for action, resource, partitions in role_grants(stack, template, function):
            if resource is not Resource.EVENTS or action not in permissions.WRITES:
                continue
            writers.add(function)
            assert action != "dynamodb:BatchWriteItem"
            if action == "dynamodb:DeleteItem":
                assert partitions == CLAIMS, function
    # The command function, and the two that send commands in-process: the saga and a saga's catch-up.
    assert writers == {"Command", "Saga", "CatchUp"}


def test_the_command_function_touches_only_the_idempotency_partition_of_the_read_table(
    stack: HorizonStack, template: Template
) -> None:
    on_read = {g for g in role_grants(stack, template, "Command") if g[1] is Resource.READ}
    assert on_read == {
        ("dynamodb:PutItem", Resource.READ, ("_idempotency",)),
        ("dynamodb:BatchGetItem", Resource.READ, ("_idempotency",)),
    }


def test_only_the_stream_consumers_read_the_stream_and_send_to_the_failure_queue(
    stack: HorizonStack, template: Template
) -> None:
    for function in stack.functions.by_name:
        names = {resource for _, resource, _ in role_grants(stack, template, function)}
        consumer = function in subscriptions.STREAM_READERS  # the projector and the fan-out, never a third
        assert (Resource.EVENTS_STREAM in names) is consumer
        assert (Resource.FAILURES in names) is consumer


def test_only_queued_consumers_consume_a_queue_and_each_only_its_own(stack: HorizonStack, template: Template) -> None:
    for function in stack.functions.by_name:
        consumed = {
            action for action, resource, _ in role_grants(stack, template, function) if resource is Resource.OWN_QUEUE
        }
        wanted = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
        assert consumed == (wanted if function in subscriptions.QUEUED else set())


def test_only_writers_of_the_tables_may_generate_data_keys_with_the_table_key(
    prod: tuple[HorizonStack, Template],
) -> None:
    stack, template = prod
    for function in stack.functions.by_name:
        on_key = {
            action for action, resource, _ in role_grants(stack, template, function) if resource is Resource.TABLE_KEY
        }
        if function == subscriptions.FANOUT:
            assert on_key == set()  # it touches no table
            continue
        writes = function != "Query"
        assert ("kms:GenerateDataKey*" in on_key) is writes
        assert {"kms:Decrypt", "kms:DescribeKey"} <= on_key
