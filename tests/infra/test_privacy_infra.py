"""Personal data on AWS: the keys table, the KMS key wrapping its keys, the claims secret, and who may use them."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template

from infra.stack import HorizonStack

from .test_stack import HANDLERS, WRITES, actions_on, logical_id


def test_the_keys_table_is_keyed_by_subject_with_point_in_time_recovery(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_every_function_is_told_the_keys_table_the_wrapping_key_and_where_the_claims_secret_is(
    template: Template, stack: HorizonStack
) -> None:
    keys, secret = logical_id(stack, stack.personal.keys), logical_id(stack, stack.personal.claims_secret)
    for function in template.find_resources("AWS::Lambda::Function").values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["KEYS_TABLE"] == {"Ref": keys}
        assert "Fn::GetAtt" in env["KMS_KEY_ID"]
        assert env["CLAIMS_SECRET_ID"] == {"Ref": secret}  # the secret's ARN, not its value


def test_no_function_environment_holds_the_claims_secret(template: Template) -> None:
    for name, function in template.find_resources("AWS::Lambda::Function").items():
        env = json.dumps(function["Properties"]["Environment"]["Variables"])
        # A dynamic reference would put the value itself in the function's configuration at deploy time.
        assert "resolve:secretsmanager" not in env, name
        assert "SecretString" not in env, name
        assert "CLAIMS_SECRET" not in json.loads(env), name


def test_only_the_command_function_which_claims_values_may_read_the_claims_secret(
    template: Template, stack: HorizonStack
) -> None:
    secret = logical_id(stack, stack.personal.claims_secret)
    assert actions_on(template, HANDLERS["command"], secret) == {"secretsmanager:GetSecretValue"}
    for name in ("query", "projector", "saga", "catch_up"):
        assert not actions_on(template, HANDLERS[name], secret), name


def test_the_wrapping_key_rotates(template: Template, stack: HorizonStack) -> None:
    wrapper = template.find_resources("AWS::KMS::Key")[logical_id(stack, stack.personal.wrapper)]
    assert wrapper["Properties"]["EnableKeyRotation"] is True


def test_only_the_functions_that_send_commands_create_data_keys_and_all_five_unwrap_them(
    template: Template, stack: HorizonStack
) -> None:
    keys, wrapper = logical_id(stack, stack.personal.keys), logical_id(stack, stack.personal.wrapper)
    for name in ("command", "saga", "catch_up"):
        assert "dynamodb:PutItem" in actions_on(template, HANDLERS[name], keys)
    # Only the command function creates subjects, so only it may be a month's first and make its branch key
    assert actions_on(template, HANDLERS["command"], wrapper) == {"kms:GenerateDataKey", "kms:Decrypt"}
    for name in ("saga", "catch_up"):
        assert actions_on(template, HANDLERS[name], wrapper) == {"kms:Decrypt"}
    for name in ("query", "projector"):
        assert not actions_on(template, HANDLERS[name], keys) & WRITES
        assert "dynamodb:BatchGetItem" in actions_on(template, HANDLERS[name], keys)
        assert actions_on(template, HANDLERS[name], wrapper) == {"kms:Decrypt"}
