"""Stages: one definition of what differs between a throwaway `dev` stack and a `prod` one.

Several stages share an account because each is its own stack, `Horizon-<stage>`. Context values:
`stage` (`dev` by default, or `prod`), `alarm_email` (subscribed to the alarm topic in `prod`),
`table_cmk` (`true` encrypts the tables with a customer-managed KMS key), `snapstart` (`true` or `false`:
Lambda SnapStart on the functions' published versions; the stage decides when it is not given), and `xray_sdk`
(`true` or `false`: Powertools' Tracer and the X-Ray SDK in the functions; SnapStart's setting when not given).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, RemovalPolicy
from aws_cdk import aws_logs as logs

STAGES = ("dev", "prod")


@dataclass(frozen=True)
class Stage:
    """The settings a stage decides; everything else in the stack is the same in every stage."""

    name: str
    removal_policy: RemovalPolicy
    """dev is destroyed cleanly, tables included; prod keeps its tables and logs when the stack goes."""
    deletion_protection: bool
    log_retention: logs.RetentionDays
    alarm_email: str | None
    """Where alarms are sent; only prod subscribes it, so dev stacks never page anyone."""
    table_cmk: bool
    snapstart: bool
    """Lambda SnapStart (docs/cold-start.md): on in prod; off in dev, where a cached snapshot per function would be
    billed at rest for stacks that mostly sit idle."""
    xray_sdk: bool
    """The X-Ray SDK's subsegments and annotations (docs/cold-start.md, "X-Ray"): its import builds a botocore client
    of its own, so it is on where SnapStart pays that before the snapshot. Lambda's active tracing is on in every
    stage either way."""

    @property
    def stack_name(self) -> str:
        """`Horizon-dev`, `Horizon-prod`: the CloudFormation stack's name."""
        return f"Horizon-{self.name}"


def stage_of(app: App) -> Stage:
    """The stage the context asks for; an unknown stage or a malformed e-mail stops the synth."""
    name = str(app.node.try_get_context("stage") or "dev")
    if name not in STAGES:
        raise ValueError(f"context stage must be one of {', '.join(STAGES)}, not {name!r}")
    email = app.node.try_get_context("alarm_email")
    if email is not None and (not isinstance(email, str) or "@" not in email.strip("@")):
        raise ValueError(f"context alarm_email must be an e-mail address, not {email!r}")
    cmk = _flag(app, "table_cmk", default=False)
    prod = name == "prod"
    snapstart = _flag(app, "snapstart", default=prod)
    return Stage(
        name=name,
        removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        deletion_protection=prod,
        log_retention=logs.RetentionDays.ONE_YEAR if prod else logs.RetentionDays.ONE_WEEK,
        alarm_email=email if prod else None,
        table_cmk=cmk,
        snapstart=snapstart,
        xray_sdk=_flag(app, "xray_sdk", default=snapstart),
    )


def _flag(app: App, name: str, *, default: bool) -> bool:
    """A true/false context value (`-c name=true`, or a Python bool from a test), `default` when absent."""
    raw = app.node.try_get_context(name)
    value = str(default if raw is None else raw).lower()  # False from a Python context means false
    if value not in ("true", "false"):
        raise ValueError(f"context {name} must be true or false, not {raw!r}")
    return value == "true"
