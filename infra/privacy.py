"""Personal data on AWS: the data-key table, the KMS key that wraps its keys, and the claims' HMAC secret."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.stage import Stage
from infra.tables import PITR

SECRET_ROTATION_REASON = (
    "The claims' HMAC secret keys every stored claim: rotating it would orphan them. It is generated once per "
    "stage and never leaves AWS (docs/privacy.md)."
)


class PersonalData(Construct):
    """Keys table (`pk` S: one wrapped data key or tombstone per data subject), its KMS key, the claims secret.

    Kept on stack deletion in `prod` like the events table: without the keys, sealed events never open. Point-in-
    time recovery is on, so a forget is undone by a restore of this table from before it: docs/privacy.md says
    what an operator must do then.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage, table_key: kms.IKey | None) -> None:
        super().__init__(scope, construct_id)
        protection: dict[str, Any] = {
            "removal_policy": stage.removal_policy,
            "deletion_protection": stage.deletion_protection,
        }
        if table_key is not None:  # the stage's table key, as for the events and read tables
            protection |= {"encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED, "encryption_key": table_key}
        self.wrapper = kms.Key(
            self,
            "DataKeyWrapper",
            description=f"Horizon {stage.name}: wraps the per-subject data keys of personal data",
            enable_key_rotation=True,
            removal_policy=stage.removal_policy,
        )
        self.keys = dynamodb.Table(
            self,
            "Keys",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=PITR,
            **protection,
        )
        self.claims_secret = secretsmanager.Secret(
            self,
            "ClaimsSecret",
            description=f"Horizon {stage.name}: the HMAC key of unique-value claims",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
            removal_policy=stage.removal_policy,
        )
        Validations.of(self.claims_secret).acknowledge(
            Acknowledgment(id="AwsSolutions-SMG4", reason=SECRET_ROTATION_REASON)
        )

    def environment(self) -> dict[str, str]:
        """What the functions read: the keys table, the wrapping key, and where the claims secret is (its ARN).

        Never the secret's value: anyone who may read a function's configuration would read it there. The
        functions that claim values fetch it (horizon/secrets.py), as infra/permissions.py lets them.
        """
        return {
            "KEYS_TABLE": self.keys.table_name,
            "KMS_KEY_ID": self.wrapper.key_arn,
            "CLAIMS_SECRET_ID": self.claims_secret.secret_arn,
        }
