"""The guest list, with a GuestList projector that cannot count the invitations listed in $HORIZON_POISON_FILE.

The local stack composes its functions from this module when a test starts it with
`HORIZON_LOCAL_DOMAIN=tests.e2e.poisoned_domain` (functions/local.py). The stack runs in another process, so
the poison is a file: listing an id there poisons its commits, deleting the file is the fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from domain import build_registry as build_registry
from domain import build_sagas as build_sagas
from domain.guest_list import GuestList, GuestListProjector, InvitationProjector
from horizon.events import Event, EventData
from horizon.projection import Projector

POISON_FILE = "HORIZON_POISON_FILE"


class PoisonedGuestList(GuestListProjector):
    """The guest-list counters, failing on every answer of a poisoned invitation."""

    def project(self, current: GuestList | None, event: Event, data: EventData) -> GuestList | None:
        path = Path(os.environ.get(POISON_FILE, "/nonexistent"))
        if path.exists() and str(event.aggregate_id) in path.read_text().split():
            raise ValueError(f"poisoned {event.aggregate_id}")
        return super().project(current, event, data)


def build_projectors(guest_limit: int) -> list[Projector[Any]]:
    """The domain's projectors, the guest list poisoned."""
    return [InvitationProjector(), PoisonedGuestList(guest_limit)]
