"""Every route but health and the OpenAPI document needs a token the HTTP API's JWT authorizer verified."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from functions.api import OPEN_ROUTES
from infra.app import build_app, token_issuer
from tests.infra.conftest import SKIP_BUNDLING

OPEN = {f"{method} {path}" for method, path in OPEN_ROUTES}


def routes(template: Template) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }


def test_every_command_and_query_route_has_the_jwt_authorizer(template: Template) -> None:
    (authorizer_id,) = template.find_resources(
        "AWS::ApiGatewayV2::Authorizer", {"Properties": {"AuthorizerType": "JWT"}}
    )
    guarded = {key: props for key, props in routes(template).items() if key not in OPEN}

    assert {"POST /commands/{command_type}", "$default"} <= set(guarded)
    for key, props in guarded.items():
        assert props["AuthorizationType"] == "JWT", key
        assert props["AuthorizerId"] == {"Ref": authorizer_id}, key


def test_health_and_the_openapi_document_stay_open(template: Template) -> None:
    found = routes(template)

    assert set(found) >= OPEN
    for key in OPEN:
        assert found[key].get("AuthorizationType", "NONE") == "NONE", key
        assert "AuthorizerId" not in found[key]


def test_without_an_issuer_the_stack_makes_a_user_pool_with_hosts_and_guests_groups(template: Template) -> None:
    template.resource_count_is("AWS::Cognito::UserPool", 1)
    groups = {g["Properties"]["GroupName"] for g in template.find_resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"hosts", "guests"}
    template.has_resource_properties(
        "AWS::Cognito::UserPool", {"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}}
    )
    (pool_id,) = template.find_resources("AWS::Cognito::UserPool")
    (client_id,) = template.find_resources("AWS::Cognito::UserPoolClient")
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {
                "Audience": [{"Ref": client_id}],
                "Issuer": {"Fn::GetAtt": [pool_id, "ProviderURL"]},
            },
        },
    )


def test_the_pool_client_signs_in_by_srp_and_by_the_admin_flow_the_readme_fetches_smoke_tokens_with(
    template: Template,
) -> None:
    (client,) = template.find_resources("AWS::Cognito::UserPoolClient").values()

    assert set(client["Properties"]["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


def test_with_an_issuer_in_context_the_authorizer_trusts_it_and_no_pool_is_made() -> None:
    context = {**SKIP_BUNDLING, "jwt_issuer": "https://login.example.com/", "jwt_audience": "web,cli"}
    _, stack = build_app(context, nag=False)
    template = Template.from_stack(stack)

    template.resource_count_is("AWS::Cognito::UserPool", 0)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {"JwtConfiguration": {"Issuer": "https://login.example.com/", "Audience": ["web", "cli"]}},
    )


@pytest.mark.parametrize(
    "context",
    [
        {"jwt_issuer": "https://login.example.com/"},
        {"jwt_audience": "web"},
        {"jwt_issuer": "http://x", "jwt_audience": "w"},
    ],
    ids=["issuer without audience", "audience without issuer", "not https"],
)
def test_an_incomplete_or_insecure_issuer_stops_the_synth(context: dict[str, str]) -> None:
    from aws_cdk import App

    with pytest.raises(ValueError, match="jwt_issuer"):
        token_issuer(App(context=context))


def test_the_user_pool_requires_and_verifies_each_users_email(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AutoVerifiedAttributes": ["email"],
            "Schema": [{"Name": "email", "Required": True, "Mutable": True}],
            # A changed address replaces the verified one only once it is verified too.
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        },
    )


def test_the_authorizer_accepts_the_id_token_that_carries_the_email(template: Template) -> None:
    # Cognito's ID token names the app client in `aud`, which API Gateway compares with the audience.
    (client_id,) = template.find_resources("AWS::Cognito::UserPoolClient")
    (authorizer,) = template.find_resources("AWS::ApiGatewayV2::Authorizer").values()

    assert authorizer["Properties"]["JwtConfiguration"]["Audience"] == [{"Ref": client_id}]
    client = template.find_resources("AWS::Cognito::UserPoolClient")[client_id]["Properties"]
    assert client["IdTokenValidity"] == 60
    assert "ReadAttributes" not in client  # every readable attribute, `email` and `email_verified` included
