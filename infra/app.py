"""CDK app entry point (cdk.json: `.venv/bin/python infra/app.py`): the Horizon stack, checked by cdk-nag.

Context: `guest_limit` (default 2), e.g. `npx aws-cdk@2 deploy -c guest_limit=5`; the stage values of
infra/stage.py (`stage`, `alarm_email`, `table_cmk`); `jwt_issuer` and `jwt_audience` (comma-separated client
ids) to accept tokens from your own OpenID Connect issuer instead of the Cognito user pool the stack creates.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `infra` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import HorizonStack
from infra.stage import stage_of

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
DEFAULT_GUEST_LIMIT = 2


def project_context() -> dict[str, Any]:
    """cdk.json's context, so running this file directly (or from tests) sees the flags the CLI would pass."""
    if not CDK_JSON.exists():
        return {}
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def guest_limit(app: App) -> int:
    """The `guest_limit` context value: a whole number of at least 1 (the CLI passes `-c` values as strings)."""
    raw = app.node.try_get_context("guest_limit")
    value = DEFAULT_GUEST_LIMIT if raw is None else raw
    if isinstance(value, bool) or not str(value).strip().isdigit() or int(value) < 1:
        raise ValueError(f"context guest_limit must be a whole number of at least 1, not {raw!r}")
    return int(value)


def token_issuer(app: App) -> tuple[str | None, list[str]]:
    """The `jwt_issuer` and `jwt_audience` context values; no issuer means the stack's own Cognito pool."""
    issuer = app.node.try_get_context("jwt_issuer") or None
    raw = app.node.try_get_context("jwt_audience") or []
    audience = [a.strip() for a in raw.split(",")] if isinstance(raw, str) else [str(a) for a in raw]
    audience = [a for a in audience if a]
    if bool(issuer) != bool(audience):
        raise ValueError("context jwt_issuer and jwt_audience go together: give both or neither")
    if issuer and not str(issuer).startswith("https://"):
        raise ValueError(f"context jwt_issuer must be an https:// URL, not {issuer!r}")
    return (str(issuer) if issuer else None), audience


def build_app(context: Mapping[str, Any] | None = None, *, nag: bool = True) -> tuple[App, HorizonStack]:
    """The app and its one stack; synthesis fails on any unacknowledged AWS Solutions (cdk-nag) finding.

    `context` overrides cdk.json's; the CLI's own context (CDK_CONTEXT_JSON) overrides both. Tests pass
    `nag=False` to inspect the template apart from the checks, which they run on their own.
    """
    app = App(context={**project_context(), **(context or {})})
    stage = stage_of(app)
    issuer, audience = token_issuer(app)
    stack = HorizonStack(
        app,
        stage=stage,
        guest_limit=guest_limit(app),
        jwt_issuer=issuer,
        jwt_audience=audience,
        description=f"Horizon ({stage.name}): CQRS and event sourcing guest list",
    )
    Tags.of(app).add("project", "horizon")
    Tags.of(app).add("stage", stage.name)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
