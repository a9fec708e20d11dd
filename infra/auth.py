"""Who may call the HTTP API: a JWT authorizer, fed by a Cognito user pool or by an issuer you already run.

API Gateway verifies the token (issuer, audience, signature, expiry) and hands the claims to the functions at
`requestContext.authorizer.jwt.claims`; the functions only read them. Roles are Cognito groups
(`cognito:groups`): the user pool has one group per role the domain names.

A guest is known by e-mail: the pool requires one per user and verifies it (a changed address counts only once
the new one is verified), and clients send the ID token, the one that carries `email` and `email_verified`;
its `aud` is the app client's id, which is the authorizer's audience.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, CfnOutput, Duration, Validations
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.stage import Stage

ROLES = ("hosts", "guests")
"""The Cognito groups: the roles `domain/invitation.py` names in its commands' audiences."""

MFA_REASON = (
    "Hosts and guests sign in with a password in this reference deployment; MFA and threat protection (a paid "
    "Cognito feature plan) are a production decision, and the pool is replaced by `jwt_issuer` context then."
)


class TokenIssuer(Construct):
    """The JWT authorizer of the HTTP API, and the user pool that issues its tokens unless `issuer` is given.

    With `issuer` (and `audience`), tokens from that OpenID Connect issuer are accepted and no pool is made.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        issuer: str | None = None,
        audience: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage
        self.user_pool: cognito.UserPool | None = None
        if issuer:
            if not audience:
                raise ValueError("context jwt_issuer needs jwt_audience too: the client ids its tokens name")
            self.issuer, self.audience = issuer, list(audience)
        else:
            self.issuer, self.audience = self._user_pool()
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "Jwt", self.issuer, jwt_audience=self.audience, identity_source=["$request.header.Authorization"]
        )

    def _user_pool(self) -> tuple[str, list[str]]:
        pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,  # hosts are invited by an administrator, never sign themselves up
            sign_in_aliases=cognito.SignInAliases(email=True),
            # The e-mail is how a guest owns an invitation: required, verified by Cognito, and a new address
            # replaces the verified one only once it is verified in turn.
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_digits=True, require_lowercase=True, require_uppercase=True, require_symbols=True
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=self._stage.removal_policy,
            deletion_protection=self._stage.deletion_protection,
        )
        for role in ROLES:
            cognito.CfnUserPoolGroup(self, f"Group-{role}", user_pool_id=pool.user_pool_id, group_name=role)
        client = pool.add_client(
            "Api",
            # SRP for apps; the admin flow lets a deployer with AWS credentials (cognito-idp:AdminInitiateAuth)
            # fetch a user's tokens from the CLI, as the README's smoke test does. No password crosses without IAM.
            auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
        )
        for rule in ("AwsSolutions-COG2", "AwsSolutions-COG3", "AwsSolutions-COG8"):
            Validations.of(pool).acknowledge(Acknowledgment(id=rule, reason=MFA_REASON))
        self.user_pool = pool
        CfnOutput(self, "UserPoolId", value=pool.user_pool_id, description="Add hosts to the `hosts` group here")
        CfnOutput(self, "UserPoolClientId", value=client.user_pool_client_id)
        # API Gateway checks `aud` of ID tokens and `client_id` of access tokens against the client id. Only the
        # ID token carries `email`: a guest must send it (hosts may send either).
        return pool.user_pool_provider_url, [client.user_pool_client_id]
