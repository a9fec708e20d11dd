"""The event table's item layout, shared by the store (writes) and the stream decoder (reads).

See docs/event-store.md: every commit rewrites one tip item per aggregate, which holds the newest events, the
folded state and recent command ids; older events are calved into immutable batch items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from horizon.dynamodb.deflate import deflated, inflated
from horizon.events import Event, Metadata
from horizon.eventstore import CommandRecord, Head, Snapshot

TIP_SORT_KEY = "0"
"""The tip item sits at sort key 0, below every batch (a batch's sort key is its last version, 1 or more)."""

VERSION, FIRST, EVENTS, BYTES, COMMANDS = "version", "first", "events", "bytes", "commands"
SNAPSHOT, STATE_VERSION, SNAPSHOT_VERSION = "snapshot", "state_version", "snapshot_version"
"""Tip attributes: the stream's version, the first version of the commit that wrote it, pending envelopes
(packed), their unpacked bytes plus the command records', command records, and the snapshot with its schema and
version. A batch item holds `events` alone."""


CLAIM_PREFIX = "claim#"
"""Every claim item's partition key starts so (horizon/dynamodb/claims.py), and no stream key may: IAM lets the
command function delete items under this prefix only (infra/permissions.py)."""


def stream_key(aggregate_type: str, aggregate_id: UUID) -> str:
    """The partition key of one aggregate's items."""
    key = f"{aggregate_type}#{aggregate_id}"
    if key.startswith(CLAIM_PREFIX):
        raise ValueError(f"{aggregate_type} {aggregate_id}: an aggregate type may not be {CLAIM_PREFIX[:-1]!r}")
    return key


def parse_stream_key(pk: str) -> tuple[str, UUID]:
    """The (aggregate type, id) a partition key stands for."""
    aggregate_type, _, aggregate_id = pk.rpartition("#")
    return aggregate_type, UUID(aggregate_id)


def encode_event(event: Event) -> str:
    """The stored envelope: no type, id or version (the key and the position hold them), no repeated ids.

    The payload's schema version is stored only when it is not 1, the version every event type starts at.
    """
    meta = event.metadata.model_dump(mode="json")
    command_id = meta.get("command_id")
    if command_id is None:
        meta.pop("command_id", None)
    else:
        # HTTP commands start their own chain: both trace ids are the command id, so they need not be stored.
        for name in ("correlation_id", "causation_id"):
            if meta[name] == command_id:
                del meta[name]
    body: dict[str, Any] = {
        "i": str(event.event_id),
        "t": event.type,
        "at": event.timestamp.isoformat(),
        "d": event.data,
        "m": meta,
    }
    if event.schema_version != 1:
        body["v"] = event.schema_version
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def decode_event(text: str, aggregate_type: str, aggregate_id: UUID, version: int) -> Event:
    """The envelope `encode_event` stored at this position of this aggregate."""
    body = json.loads(text)
    meta = body["m"]
    if "command_id" in meta:
        meta.setdefault("correlation_id", meta["command_id"])
        meta.setdefault("causation_id", meta["command_id"])
    return Event(
        event_id=body["i"],
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=version,
        type=body["t"],
        schema_version=body.get("v", 1),
        timestamp=body["at"],
        data=body["d"],
        metadata=Metadata.model_validate(meta),
    )


def packed(bodies: Sequence[str]) -> dict[str, Any]:
    """The `events` attribute holding these envelopes: one deflated binary of them, a newline between two.

    Envelopes of one aggregate repeat their field names, actor and command names, so together they deflate to
    about half (an invitation's three envelopes: 869 bytes to 461), and DynamoDB charges by stored bytes.
    Compact JSON escapes every newline inside a string, so a raw newline only ever separates two envelopes.
    """
    return deflated("\n".join(bodies))


def bodies_of(item: dict[str, Any]) -> list[str]:
    """The envelopes an item's `events` attribute holds, packed or (items written before packing) a string list."""
    value = item.get(EVENTS)
    if not value:
        return []
    if "B" not in value:
        return [str(body["S"]) for body in value.get("L", [])]
    text = inflated(value)
    return text.split("\n") if text else []


def decode_events(item: dict[str, Any], last: int) -> list[Event]:
    """The envelopes of a tip or batch item whose last event has version `last`."""
    aggregate_type, aggregate_id = parse_stream_key(item["pk"]["S"])
    bodies = bodies_of(item)
    start = last - len(bodies) + 1
    return [decode_event(body, aggregate_type, aggregate_id, start + i) for i, body in enumerate(bodies)]


def encode_command(record: CommandRecord) -> str:
    """A command record as stored on the tip."""
    return json.dumps([record.command_id, record.command, record.first, record.last], separators=(",", ":"))


def command_records(events: list[Event]) -> list[CommandRecord]:
    """The records of the commits these events form: a commit's events share their command id."""
    records: list[CommandRecord] = []
    for event in events:
        command_id = event.metadata.command_id
        if command_id is None:
            continue
        if records and records[-1].command_id == command_id and records[-1].last == event.version - 1:
            records[-1] = CommandRecord(command_id, event.metadata.command, records[-1].first, event.version)
        else:
            records.append(CommandRecord(command_id, event.metadata.command, event.version, event.version))
    return records


def decode_head(item: dict[str, Any]) -> Head:
    """The head a tip item holds (DynamoDB JSON).

    Its command records are those stored for calved commits plus those of the pending events, which carry
    their command ids themselves (so a commit that does not calve writes no record).
    """
    version = int(item[VERSION]["N"])
    snapshot = None
    if SNAPSHOT in item:
        snapshot = Snapshot(int(item[SNAPSHOT_VERSION]["N"]), int(item[STATE_VERSION]["N"]), item[SNAPSHOT]["S"])
    pending = decode_events(item, version)
    stored = [CommandRecord(*json.loads(value["S"])) for value in item.get(COMMANDS, {}).get("L", [])]
    return Head(version, snapshot, tuple(pending), (*stored, *command_records(pending)))


def commit_bodies(image: dict[str, Any]) -> tuple[list[str], dict[int, str]]:
    """The envelopes of the commit that wrote a tip image, and the stored types of the events the tip still holds
    from before that commit, by version; the events attribute is inflated once for both.

    The tip that a commit wrote is the truth about those earlier versions: a consumer may rely on their types
    instead of reading them back (horizon/consumers/tracked.py, "vouched").
    """
    if FIRST not in image or EVENTS not in image:
        return [], {}
    first, bodies = int(image[FIRST]["N"]), bodies_of(image)
    start = int(image[VERSION]["N"]) - len(bodies) + 1
    held = max(0, first - start)
    # Only the type of an earlier event is wanted: no Event is built for it.
    return bodies[held:], {start + i: str(json.loads(body)["t"]) for i, body in enumerate(bodies[:held])}


def preceding_types(image: dict[str, Any]) -> dict[int, str]:
    """The stored types of the events a tip image still holds from before its commit, by version."""
    return commit_bodies(image)[1]


def read_tip(image: dict[str, Any]) -> tuple[list[Event], dict[int, str]]:
    """The events of the commit that wrote this tip image (DynamoDB JSON), and the stored types of the events it
    still holds from before (`preceding_types`); ([], {}) for anything else."""
    if image.get("sk", {}).get("N") != TIP_SORT_KEY or EVENTS not in image or FIRST not in image:
        return [], {}
    aggregate_type, aggregate_id = parse_stream_key(image["pk"]["S"])
    bodies, earlier = commit_bodies(image)
    start = int(image[VERSION]["N"]) - len(bodies) + 1  # the commit's envelopes end the tip's
    return [decode_event(body, aggregate_type, aggregate_id, start + i) for i, body in enumerate(bodies)], earlier


def decode_tip(image: dict[str, Any]) -> list[Event]:
    """The events of the commit that wrote this tip image (DynamoDB JSON); [] for anything else."""
    return read_tip(image)[0]
