"""moto's state on disk: one consistent snapshot, written atomically, read back at start.

What is saved is the data a developer works with: every DynamoDB table (items, indexes and stream records with
their sequence numbers), every SQS queue (messages included), every KMS key (the data keys' wrapper), every
secret (the claims' HMAC key: a new one would orphan every stored claim). A snapshot saved while the fan-out still
went through an SNS topic also holds the topic; it is not restored, as nothing publishes to it any more.
Shard iterators are not: they expire on AWS too, and the poller resumes from its own checkpoints, which live
in a table and so are saved with the data.
"""

from __future__ import annotations

import copy
import copyreg
import io
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from horizon.local.fake_aws import ACCOUNT_ID, REGION

FORMAT = 1
"""Bumped when the saved layout changes; a snapshot of another format is set aside, not loaded."""


def _backends() -> tuple[Any, Any, Any, Any]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.kms.models import kms_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.sqs.models import sqs_backends

    return (
        dynamodb_backends[ACCOUNT_ID][REGION],
        sqs_backends[ACCOUNT_ID][REGION],
        kms_backends[ACCOUNT_ID][REGION],
        secretsmanager_backends[ACCOUNT_ID][REGION],
    )


def _condition(_: threading.Condition) -> tuple[Any, tuple[()]]:
    # An SQS queue guards its messages with a Condition: save a fresh one in its place.
    return threading.Condition, ()


def _kms_keys(keys: dict[str, Any]) -> dict[str, Any]:
    # A moto key holds an asymmetric key object that does not pickle; symmetric keys (ours) never use it.
    saved = {}
    for key_id, key in keys.items():
        light = copy.copy(key)
        light.private_key = None
        saved[key_id] = light
    return saved


def _kms_keys_back(keys: dict[str, Any]) -> dict[str, Any]:
    from moto.kms.utils import generate_private_key

    for key in keys.values():
        if key.private_key is None:
            key.private_key = generate_private_key(key.key_spec)
    return keys


class Snapshots:
    """The snapshot file under `directory` (created on first save)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "moto-state.pickle"

    def capture(self, journal: int) -> bytes:
        """moto's state now, serialized, to be followed by journal `journal`; moto is held still meanwhile."""
        dynamodb, sqs, kms, secrets = _backends()
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {**copyreg.dispatch_table, threading.Condition: _condition}
        pickler.dump(
            {
                "format": FORMAT,
                "journal": journal,
                "dynamodb": dynamodb.tables,
                "sqs": sqs.queues,
                "kms": _kms_keys(kms.keys),
                "secretsmanager": secrets.secrets,
            }
        )
        return buffer.getvalue()

    def write(self, blob: bytes) -> None:
        """Replace the snapshot file with `blob` atomically: a crash leaves the old file or the new, never half."""
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("wb") as sink:
            sink.write(blob)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, self.path)

    def restore(self) -> int | None:
        """Load the snapshot into moto's backends, if there is one; return the journal that follows it."""
        if not self.path.exists():
            return None
        state = pickle.loads(self.path.read_bytes())  # our own file, written by capture()
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            self.path.rename(self.path.with_suffix(".unreadable"))
            return None
        dynamodb, sqs, kms, secrets = _backends()
        dynamodb.tables = state["dynamodb"]
        sqs.queues = state["sqs"]
        kms.keys = _kms_keys_back(state.get("kms", {}))  # the data-key wrapper: without it nothing sealed opens
        if "secretsmanager" in state:  # snapshots saved before the claims key moved there have none
            secrets.secrets = state["secretsmanager"]
        return int(state["journal"])
