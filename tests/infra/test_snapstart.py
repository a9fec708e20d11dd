"""SnapStart: on in prod, off in dev unless asked; with it on, every trigger invokes the `live` alias."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from functions.snapstart import ENV as SNAPSTART_ENV
from infra.app import build_app
from infra.functions import LIVE_ALIAS, SPECS
from infra.stack import HorizonStack
from infra.stage import stage_of

from .conftest import SKIP_BUNDLING

PROD = {**SKIP_BUNDLING, "stage": "prod", "alarm_email": "ops@example.com"}


@pytest.fixture(scope="module")
def prod() -> tuple[App, HorizonStack, Template]:
    app, stack = build_app(PROD, nag=False)
    return app, stack, Template.from_stack(stack)


def aliases(template: Template) -> dict[str, str]:
    """Alias logical id → the logical id of its function."""
    found = template.find_resources("AWS::Lambda::Alias")
    return {key: alias["Properties"]["FunctionName"]["Ref"] for key, alias in found.items()}


def refs(value: Any) -> set[str]:
    """Every logical id `value` refers to, by Ref or Fn::GetAtt."""
    text = json.dumps(value)
    found = set()
    for part in text.split('{"Ref": "')[1:]:
        found.add(part.split('"', 1)[0])
    for part in text.split('{"Fn::GetAtt": ["')[1:]:
        found.add(part.split('"', 1)[0])
    return found


@pytest.mark.parametrize(
    ("context", "on"),
    [
        ({}, False),
        ({"stage": "prod"}, True),
        ({"snapstart": "true"}, True),
        ({"stage": "prod", "snapstart": "false"}, False),
    ],
)
def test_snapstart_is_on_in_prod_off_in_dev_and_the_context_decides_when_given(
    context: dict[str, str], on: bool
) -> None:
    assert stage_of(App(context=context)).snapstart is on


def test_a_snapstart_value_other_than_true_or_false_stops_the_synth() -> None:
    with pytest.raises(ValueError, match="snapstart"):
        stage_of(App(context={"snapstart": "sometimes"}))


def test_dev_publishes_no_version_and_triggers_invoke_latest(template: Template) -> None:
    assert template.find_resources("AWS::Lambda::Alias") == {}
    assert template.find_resources("AWS::Lambda::Version") == {}
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert "SnapStart" not in function["Properties"]
        assert SNAPSTART_ENV not in function["Properties"]["Environment"]["Variables"]


def test_prod_snapshots_every_functions_published_version_and_tells_it_to_prime(
    prod: tuple[App, HorizonStack, Template],
) -> None:
    _, _, template = prod
    functions = template.find_resources("AWS::Lambda::Function")
    assert len(functions) == len(SPECS)
    for function in functions.values():
        assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert function["Properties"]["Environment"]["Variables"][SNAPSTART_ENV] == "1"
        # What SnapStart excludes: provisioned concurrency, EFS, ephemeral storage above 512 MB; runtimes below 3.12.
        assert not {"FileSystemConfigs", "ProvisionedConcurrencyConfig"} & set(function["Properties"])
        assert function["Properties"].get("EphemeralStorage", {"Size": 512})["Size"] <= 512
        runtime = function["Properties"]["Runtime"]
        assert tuple(int(n) for n in runtime.removeprefix("python").split(".")) >= (3, 12)


def test_prod_functions_load_the_x_ray_sdk_before_their_snapshot(prod: tuple[App, HorizonStack, Template]) -> None:
    for function in prod[2].find_resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "false"


def test_prod_has_one_live_alias_per_function_on_its_current_version_and_drops_replaced_versions(
    prod: tuple[App, HorizonStack, Template],
) -> None:
    _, _, template = prod
    found = template.find_resources("AWS::Lambda::Alias")
    assert sorted(aliases(template).values()) == sorted(template.find_resources("AWS::Lambda::Function"))
    versions = template.find_resources("AWS::Lambda::Version")
    for alias in found.values():
        assert alias["Properties"]["Name"] == LIVE_ALIAS
        (version,) = refs(alias["Properties"]["FunctionVersion"])
        # A version's snapshot is billed while the version exists: a replaced one is deleted, not retained.
        assert versions[version]["DeletionPolicy"] == "Delete"
        assert versions[version]["Properties"]["FunctionName"] == alias["Properties"]["FunctionName"]


def test_prod_triggers_invoke_the_live_aliases_never_latest(prod: tuple[App, HorizonStack, Template]) -> None:
    _, _, template = prod
    live = set(aliases(template))
    functions = set(template.find_resources("AWS::Lambda::Function"))
    integrations = template.find_resources("AWS::ApiGatewayV2::Integration").values()
    mappings = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    permissions = template.find_resources("AWS::Lambda::Permission").values()
    machines = template.find_resources("AWS::StepFunctions::StateMachine").values()
    targets = [
        *(refs(i["Properties"]["IntegrationUri"]) for i in integrations),
        *(refs(m["Properties"]["FunctionName"]) for m in mappings),
        *(refs(p["Properties"]["FunctionName"]) for p in permissions),
        *(refs(m["Properties"]["DefinitionString"]) & (live | functions) for m in machines),
    ]
    assert len(mappings) == 3  # the projector's and the fan-out's stream, the saga's queue
    assert all(target and target <= live for target in targets), targets


def test_prod_lets_the_catch_up_machine_invoke_only_the_live_alias(prod: tuple[App, HorizonStack, Template]) -> None:
    _, stack, template = prod
    role = stack.resolve(stack.catch_up.state_machine.role.role_name)["Ref"]
    invokes = [
        statement["Resource"]
        for policy in template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role}]}}).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in json.dumps(statement["Action"])
    ]
    (catch_up_alias,) = [a for a, f in aliases(template).items() if "CatchUp" in f]
    assert invokes == [{"Ref": catch_up_alias}]


def test_the_mappings_keep_their_logical_ids_when_snapstart_turns_on(prod: tuple[App, HorizonStack, Template]) -> None:
    # A replaced stream mapping would start again from the stream's oldest record; a new FunctionName is an update.
    _, off = build_app({**PROD, "snapstart": "false"}, nag=False)
    before = Template.from_stack(off).find_resources("AWS::Lambda::EventSourceMapping")
    assert set(before) == set(prod[2].find_resources("AWS::Lambda::EventSourceMapping"))


def test_cdk_nag_finds_nothing_unacknowledged_with_snapstart_on(prod: tuple[App, HorizonStack, Template]) -> None:
    app, stack, _ = prod
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert [v.rule_name for v in report.violations] == []
