"""The principal of an HTTP request, read from the claims API Gateway's JWT authorizer already verified.

API Gateway (and the local front door, which mimics it) puts a verified token's claims at
`requestContext.authorizer.jwt.claims`. Functions read them from there and never verify a token themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from horizon.authorization import Principal, Unauthenticated

ROLES_CLAIM = "cognito:groups"
"""Cognito puts a user's groups here; the local front door issues the same claim."""
EMAIL_CLAIM = "email"
EMAIL_VERIFIED_CLAIM = "email_verified"
"""OpenID Connect's standard claims, in Cognito's ID tokens: an e-mail counts only when the issuer verified it."""


def claims_of(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The verified claims of an API Gateway HTTP API (v2) event, or None when no authorizer ran."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims")
    return claims if isinstance(claims, Mapping) else None


def principal_of(event: Mapping[str, Any]) -> Principal:
    """The client behind a request; Unauthenticated when the event carries no verified subject."""
    claims = claims_of(event)
    subject = claims.get("sub") if claims else None
    if not claims or not isinstance(subject, str) or not subject:
        raise Unauthenticated("this route needs a bearer token: send Authorization: Bearer <token>")
    return Principal.client(subject, parse_roles(claims.get(ROLES_CLAIM)), email=verified_email(claims))


def verified_email(claims: Mapping[str, Any]) -> str | None:
    """The token's e-mail if its issuer verified it (API Gateway hands the boolean over as the string "true")."""
    email, verified = claims.get(EMAIL_CLAIM), claims.get(EMAIL_VERIFIED_CLAIM)
    if not isinstance(email, str) or not email.strip():
        return None
    return email if verified is True or (isinstance(verified, str) and verified.lower() == "true") else None


def parse_roles(value: Any) -> frozenset[str]:
    """Roles from a groups claim: a JSON list, or the string API Gateway makes of one (`[hosts guests]`)."""
    if isinstance(value, list | tuple):
        return frozenset(str(role) for role in value if str(role))
    if isinstance(value, str):
        return frozenset(role for role in re.split(r"[\s,]+", value.strip().strip("[]")) if role)
    return frozenset()
