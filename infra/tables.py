"""The event store's two DynamoDB tables, keyed exactly as horizon/dynamodb/tables.py creates them locally."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

PITR = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)


class EventStoreTables(Construct):
    """The events table (history, source of truth, streamed) and the read table (read models, saga state).

    Events: `pk` S + `sk` N. The tip item (sk = 0) is rewritten by every commit, and its NEW_IMAGE stream
    record carries the commit (docs/event-store.md). Read: `pk` S + `sk` S. Both are on-demand and keep
    point-in-time recovery. Both are retained on stack deletion. The events table is the source of truth.
    The read table holds saga state and unsent outbox commands besides the rebuildable read models.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.events = dynamodb.Table(
            self,
            "Events",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.NUMBER),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            point_in_time_recovery_specification=PITR,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.read = dynamodb.Table(
            self,
            "Read",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=PITR,
            removal_policy=RemovalPolicy.RETAIN,
        )
