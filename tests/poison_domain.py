"""A domain module for `horizon --registry tests.poison_domain:build_registry`: a counter that fails on cue."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from domain import build_registry as build_registry
from horizon.events import Event, EventData
from horizon.projection import Projector, Saga
from tests.catch_up_support import EventCounter

POISON: set[UUID] = set()
"""Aggregates whose events the counter cannot count (until the test removes them: the fix)."""


class FlakyCounter(EventCounter):
    """The shared counter, failing on every event of a poisoned aggregate."""

    name: ClassVar[str] = "FlakyCounter"

    def project(self, current: Any, event: Event, data: EventData) -> Any:
        if event.aggregate_id in POISON:
            raise ValueError(f"poisoned {event.aggregate_id}")
        return super().project(current, event, data)


def build_projectors(guest_limit: int) -> list[Projector[Any]]:
    return [FlakyCounter()]


def build_sagas(guest_limit: int) -> list[Saga[Any]]:
    return []
