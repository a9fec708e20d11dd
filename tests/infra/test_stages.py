"""Stages: dev and prod stacks share an account, and prod keeps its data and pages someone."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template

from infra.app import build_app
from infra.stage import stage_of

from .conftest import SKIP_BUNDLING

PROD = {**SKIP_BUNDLING, "stage": "prod", "alarm_email": "ops@example.com", "table_cmk": "true"}


@pytest.fixture(scope="module")
def prod() -> Template:
    _, stack = build_app(PROD, nag=False)
    return Template.from_stack(stack)


def test_the_stack_is_named_after_its_stage() -> None:
    assert stage_of(App()).stack_name == "Horizon-dev"
    assert stage_of(App(context={"stage": "prod"})).stack_name == "Horizon-prod"


@pytest.mark.parametrize(("key", "value"), [("stage", "staging"), ("alarm_email", "nobody"), ("table_cmk", "maybe")])
def test_a_bad_stage_value_stops_the_synth(key: str, value: Any) -> None:
    with pytest.raises(ValueError, match=key):
        stage_of(App(context={key: value}))


def test_dev_tables_go_with_the_stack(template: Template) -> None:
    for table in template.find_resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert not table["Properties"].get("DeletionProtectionEnabled")


def test_prod_tables_are_retained_and_protected_from_deletion(prod: Template) -> None:
    tables = prod.find_resources("AWS::DynamoDB::Table").values()
    assert len(tables) == 3  # events, read, data keys
    for table in tables:
        assert table["DeletionPolicy"] == "Retain"
        assert table["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_prod_can_encrypt_the_tables_with_a_rotated_customer_managed_key(prod: Template) -> None:
    rotated = prod.find_resources("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}})
    (key,) = [k for k in rotated if "TableKey" in k]  # the other wraps personal data keys (infra/privacy.py)
    for table in prod.find_resources("AWS::DynamoDB::Table").values():
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True
        assert sse["KMSMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}


def test_prod_keeps_logs_for_a_year(prod: Template) -> None:
    for log_group in prod.find_resources("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] == 365
        assert log_group["DeletionPolicy"] == "Retain"


def test_only_prod_subscribes_the_alarm_email(prod: Template, template: Template) -> None:
    prod.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"})
    subscribed = template.find_resources("AWS::SNS::Subscription").values()
    assert list(subscribed) == []  # no e-mail (and the fan-out sends to its queues with no topic)


def test_the_prod_stack_passes_cdk_nag() -> None:
    from cdk_nag import AwsSolutionsChecks

    app, stack = build_app(PROD, nag=False)
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert [v.rule_name for v in report.violations] == []


def test_dev_stacks_do_not_encrypt_with_a_key_of_their_own(template: Template) -> None:
    (wrapper,) = template.find_resources("AWS::KMS::Key")  # only the personal data keys' wrapper
    assert "DataKeyWrapper" in wrapper
    template.has_resource_properties("AWS::DynamoDB::Table", {"SSESpecification": Match.absent()})
