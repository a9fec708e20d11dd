"""Idempotency keys: a client's key stands for one command, its type and its body, for `RETENTION_SECONDS`.

The first use of a key records the command's fingerprint in the read store (collection `_idempotency`, one
conditional put); any later use with another type or body is refused (422) before the command runs, whichever
aggregate it names. The command id derived from the key then makes the handler answer a retry with the first
result instead of running the command again.

A record expires after `RETENTION_SECONDS`: DynamoDB's time to live deletes it some time later (within days),
and until then a claim treats it as absent and takes it over with a conditional write. So a key may stand for
another command a day later, and the table does not grow with every key ever used (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from horizon.commands import Command
from horizon.errors import CommandIdReused, ReadModelConflict, Throttled
from horizon.readstore import ReadStore, Write

COLLECTION = "_idempotency"
"""The read-store partition of key records; the command function may write this partition and no other."""

RETENTION_SECONDS = 24 * 60 * 60
"""How long a key stands for its command: a client retries within minutes, and a day covers a retry after an
outage; the event store's own command ids (the 16 most recent on each tip) outlast it for a busy aggregate."""

CLAIM_ATTEMPTS = 3
"""A claim conflicts only with another claim of the same key: after a few, one of them has won."""


def fingerprint(command: Command) -> str:
    """A hash of the command's type and validated body, the same however the JSON was spelled."""
    canonical = json.dumps(
        {"type": command.command_type, "body": command.model_dump(mode="json")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(reads: ReadStore, command_id: str, command: Command, clock: Callable[[], float] = time.time) -> None:
    """Bind `command_id` to this command unless it stands for another one, unexpired; else CommandIdReused."""
    record = {"command": command.command_type, "fingerprint": fingerprint(command)}
    revision = 0  # first as a new record; then over an expired one, at the revision it was read at
    for _ in range(CLAIM_ATTEMPTS):
        now = int(clock())
        try:
            reads.commit([Write(COLLECTION, command_id, record, revision, expires=now + RETENTION_SECONDS)])
            return
        except ReadModelConflict:
            existing = reads.get(COLLECTION, command_id)
        if existing is None or (existing.expires is not None and existing.expires <= now):
            revision = 0 if existing is None else existing.revision  # deleted, or expired: take it over
            continue
        if existing.body == record:
            return  # a retry of the same command within the retention: the handler answers it
        raise CommandIdReused(
            f"{command.command_type} on {command.id}: this Idempotency-Key was already used for "
            f"{existing.body.get('command', 'another command')} with another body; choose a new key for a new command"
        )
    # Each conflict is another claim of this very key winning: the next read decides, unless claims keep racing.
    raise Throttled(f"{command.command_type} on {command.id}: other requests with this Idempotency-Key kept winning")
