"""Idempotency keys: a client's key stands for one command, its type and its body, for good.

The first use of a key records the command's fingerprint in the read store (collection `_idempotency`, one
conditional put); any later use with another type or body is refused (422) before the command runs, whichever
aggregate it names. The command id derived from the key then makes the handler answer a retry with the first
result instead of running the command again.
"""

from __future__ import annotations

import hashlib
import json

from horizon.commands import Command
from horizon.errors import CommandIdReused, ReadModelConflict
from horizon.readstore import ReadStore, Write

COLLECTION = "_idempotency"
"""The read-store partition of key records; the command function may write this partition and no other."""


def fingerprint(command: Command) -> str:
    """A hash of the command's type and validated body, the same however the JSON was spelled."""
    canonical = json.dumps(
        {"type": command.command_type, "body": command.model_dump(mode="json")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(reads: ReadStore, command_id: str, command: Command) -> None:
    """Bind `command_id` to this command on first use; CommandIdReused if it stands for another command."""
    record = {"command": command.command_type, "fingerprint": fingerprint(command)}
    try:
        reads.commit([Write(COLLECTION, command_id, record, 0)])
        return
    except ReadModelConflict:
        existing = reads.get(COLLECTION, command_id)
    if existing is None or existing.body != record:
        used_for = existing.body.get("command", "another command") if existing else "another command"
        raise CommandIdReused(
            f"{command.command_type} on {command.id}: this Idempotency-Key was already used for {used_for} "
            "with another body; choose a new key for a new command"
        )
