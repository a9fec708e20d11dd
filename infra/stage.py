"""Stages: one definition of what differs between a throwaway `dev` stack and a `prod` one.

Several stages share an account because each is its own stack, `Horizon-<stage>`. Context values:
`stage` (`dev` by default, or `prod`), `alarm_email` (subscribed to the alarm topic in `prod`),
`table_cmk` (`true` encrypts the tables with a customer-managed KMS key), and `snapstart` (`true` or `false`:
Lambda SnapStart on the functions' published versions; the stage decides when it is not given).
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
    cmk = str(app.node.try_get_context("table_cmk") or "false").lower()
    if cmk not in ("true", "false"):
        raise ValueError(f"context table_cmk must be true or false, not {cmk!r}")
    prod = name == "prod"
    raw = app.node.try_get_context("snapstart")
    snapstart = str(prod if raw is None else raw).lower()  # False from a Python context means false
    if snapstart not in ("true", "false"):
        raise ValueError(f"context snapstart must be true or false, not {snapstart!r}")
    return Stage(
        name=name,
        removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        deletion_protection=prod,
        log_retention=logs.RetentionDays.ONE_YEAR if prod else logs.RetentionDays.ONE_WEEK,
        alarm_email=email if prod else None,
        table_cmk=cmk == "true",
        snapstart=snapstart == "true",
    )
