"""The event store's two DynamoDB tables, keyed exactly as horizon/dynamodb/tables.py creates them locally."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from horizon.dynamodb.tables import EXPIRES
from infra.stage import Stage

PITR = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)


class EventStoreTables(Construct):
    """The events table (history, source of truth, streamed) and the read table (read models, saga state).

    Events: `pk` S + `sk` N. The tip item (sk = 0) is rewritten by every commit, and its NEW_IMAGE stream
    record carries the commit (docs/event-store.md). Read: `pk` S + `sk` S. Both are on-demand and keep
    point-in-time recovery. The events table is the source of truth; the read table holds saga state and
    unsent outbox commands besides the rebuildable read models. So in `prod` both are retained on stack
    deletion and protected from deletion; a `dev` stack takes its tables with it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        self.key: kms.Key | None = None
        protection: dict[str, Any] = {
            "removal_policy": stage.removal_policy,
            "deletion_protection": stage.deletion_protection,
        }
        if stage.table_cmk:
            self.key = kms.Key(
                self,
                "TableKey",
                description=f"Horizon {stage.name}: encrypts the events and read tables",
                enable_key_rotation=True,
                removal_policy=stage.removal_policy,
            )
            protection |= {"encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED, "encryption_key": self.key}
        self.events = dynamodb.Table(
            self,
            "Events",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.NUMBER),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            point_in_time_recovery_specification=PITR,
            **protection,
        )
        self.read = dynamodb.Table(
            self,
            "Read",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=EXPIRES,
            point_in_time_recovery_specification=PITR,
            **protection,
        )
