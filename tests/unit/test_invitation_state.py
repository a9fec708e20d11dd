"""The Invitation's evolution: InviteDeclined v2 and its upcaster, and the state model's snapshots."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from domain import build_registry
from domain.invitation import NO_REASON, CreateInvite, DeclineInvite, Invitation, InviteAccepted
from horizon.command_handler import CommandHandler
from horizon.events import Event, Metadata
from horizon.memory import MemoryEventStore
from tests.principals import as_host


def old_decline(invite_id: UUID) -> Event:
    """A decline as version 1 of the code stored it: no reason, no schema_version in the envelope."""
    envelope = {
        "aggregate_type": "Invitation",
        "aggregate_id": str(invite_id),
        "version": 2,
        "type": "InviteDeclined",
        "data": {},
        "metadata": Metadata(correlation_id="c", causation_id="c", command="DeclineInvite").model_dump(),
    }
    return Event.model_validate(envelope)


def test_a_version_1_decline_stored_before_reasons_reads_as_not_given() -> None:
    registry, store = build_registry(), MemoryEventStore()
    handler = CommandHandler(registry, store)
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Zeus"), as_host())
    store.append([old_decline(invite_id)], 1)

    invitation, _ = handler.load("Invitation", invite_id)

    assert invitation.snapshot() == {
        "name": "Zeus",
        "age": None,
        "status": "declined",
        "decline_reason": NO_REASON,
        "email": None,
        "forgotten": False,
    }


def test_a_decline_records_its_reason_at_schema_version_2(handler: CommandHandler) -> None:
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Zeus"), as_host())

    result = handler.handle(DeclineInvite(id=invite_id, reason="busy on Olympus"), as_host())

    assert [(e.type, e.schema_version, e.data) for e in result.events] == [
        ("InviteDeclined", 2, {"reason": "busy on Olympus"})
    ]


def test_state_snapshots_round_trip_through_restore() -> None:
    invitation = Invitation(UUID(int=1))
    invitation.apply(InviteAccepted())
    snapshot = invitation.snapshot()

    fresh = Invitation(UUID(int=1))
    fresh.restore(snapshot)

    assert (
        fresh.snapshot()
        == snapshot
        == {"name": "", "age": None, "status": "accepted", "decline_reason": None, "email": None, "forgotten": False}
    )
    assert Invitation.state_version == 2
    with pytest.raises(ValidationError):
        fresh.restore({**snapshot, "status": "lost"})
    with pytest.raises(ValueError, match="fields"):
        fresh.restore({"status": "accepted"})
    with pytest.raises(ValueError, match="fields"):
        fresh.restore({**snapshot, "seat": 3})
    assert fresh.snapshot() == snapshot
