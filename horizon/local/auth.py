"""The local stack's JWT authorizer: what API Gateway's JWT authorizer does on AWS, with a development key.

The key is generated on first use under the checkout (`.local/`, git-ignored) and shared by `make run` and
`make token`. The front door verifies a bearer token with PyJWT (signature, expiry, issuer, audience) and puts
its claims at `requestContext.authorizer.jwt.claims`, stringified as API Gateway does, so the functions read
claims exactly as they do on AWS and never verify a token themselves.

    python -m horizon.local.auth --role hosts [--subject alice]   # prints one bearer token
    python -m horizon.local.auth --role guest --email ares@olympus.example   # a guest's, e-mail verified
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from horizon.http.principal import EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM, ROLES_CLAIM
from horizon.http.problems import problem_event

ISSUER = "horizon-local"
AUDIENCE = "horizon"
ALGORITHM = "HS256"
TOKEN_TTL_SECONDS = 12 * 3600
KEY_FILE = "signing-key"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Route = tuple[str, str]


def local_dir() -> Path:
    """Where local state lives: HORIZON_LOCAL_DIR, or `.local/` in the working directory (the checkout)."""
    return Path(os.environ.get("HORIZON_LOCAL_DIR") or ".local")


def signing_key(directory: Path | None = None) -> bytes:
    """The development signing key, created (0600, atomically) on first use so every process shares one."""
    directory = directory or local_dir()
    path = directory / KEY_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        staged = directory / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as sink:
            sink.write(secrets.token_hex(32))
        try:
            os.link(staged, path)  # fails if another process won the race: then its key is the key
        except FileExistsError:
            pass
        finally:
            staged.unlink()
    return path.read_text().strip().encode()


def issue(
    key: bytes,
    roles: Iterable[str],
    *,
    subject: str = "local-user",
    ttl: int = TOKEN_TTL_SECONDS,
    now: float = 0,
    email: str | None = None,
    email_verified: bool = True,
) -> str:
    """A token as Cognito would issue it (an ID token) for a user in the groups `roles`, with their e-mail."""
    import jwt

    issued = int(now or time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        ROLES_CLAIM: sorted(roles),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + ttl,
        "token_use": "id",
    }
    if email is not None:
        claims[EMAIL_CLAIM], claims[EMAIL_VERIFIED_CLAIM] = email, email_verified
    return jwt.encode(claims, key, algorithm=ALGORITHM)


class InvalidToken(Exception):
    """A missing, malformed, expired or wrongly signed bearer token."""


def verify(key: bytes, authorization: str | None) -> dict[str, Any]:
    """The claims of a valid `Authorization: Bearer` token; InvalidToken otherwise."""
    import jwt

    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("send Authorization: Bearer <token> (make token ROLE=host prints one)")
    try:
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.InvalidTokenError as error:
        raise InvalidToken(f"the token is not valid: {error}") from None
    return claims


def as_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to a function: every value a string, arrays as `[a b]`, booleans as
    `true`/`false` (the JSON spelling, as `email_verified` arrives on AWS)."""
    return {name: _gateway_string(value) for name, value in claims.items()}


def _gateway_string(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def authorizer(key: bytes, open_routes: Sequence[Route]) -> Callable[[Handler], Handler]:
    """Wrap a Lambda handler so it runs only for open routes or with a verified token, as API Gateway does."""

    def wrap(handler: Handler) -> Handler:
        def authorized(event: dict[str, Any], context: Any) -> dict[str, Any]:
            if (event["requestContext"]["http"]["method"], event["rawPath"]) in open_routes:
                return handler(event, context)
            header = (event.get("headers") or {}).get("authorization")
            try:
                claims = verify(key, header)
            except InvalidToken as error:
                # RFC 6750: a request without credentials gets a bare challenge, a bad token an error code.
                challenge = 'Bearer error="invalid_token"' if header else "Bearer"
                return problem_event(401, str(error), headers={"WWW-Authenticate": challenge})
            jwt_context = {"claims": as_gateway_claims(claims), "scopes": None}
            request_context = {**event["requestContext"], "authorizer": {"jwt": jwt_context}}
            return handler({**event, "requestContext": request_context}, context)

        return authorized

    return wrap


def main(argv: list[str] | None = None) -> int:
    """Print a bearer token for the local stack, alone on one line."""
    parser = argparse.ArgumentParser(description="Print a bearer token for the local stack (make token ROLE=host).")
    parser.add_argument("--role", action="append", default=[], help="a role (Cognito group), e.g. host or hosts")
    parser.add_argument("--subject", default=None, help="the token's subject (default: local-<role>)")
    parser.add_argument("--ttl", type=int, default=TOKEN_TTL_SECONDS, help="seconds until it expires")
    parser.add_argument("--email", default=None, help="the user's e-mail, verified (a guest owns its invitation)")
    parser.add_argument("--unverified", action="store_true", help="claim the e-mail as not verified")
    args = parser.parse_args(argv)
    # `ROLE=host` reads naturally; the groups are plural, as Cognito groups usually are.
    roles = sorted({role if role.endswith("s") else f"{role}s" for role in args.role or ["hosts"] if role})
    email = args.email.strip() if args.email and args.email.strip() else None
    # An opaque subject, as Cognito's: it is recorded in every event's actor, where an e-mail must never be.
    opaque = f"-{uuid.uuid5(uuid.NAMESPACE_URL, f'mailto:{email.lower()}').hex[:12]}" if email else ""
    subject = args.subject or f"local-{'-'.join(roles)}{opaque}"
    print(issue(signing_key(), roles, subject=subject, ttl=args.ttl, email=email, email_verified=not args.unverified))
    return 0


if __name__ == "__main__":
    sys.exit(main())
