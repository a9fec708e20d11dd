"""Every stored shape of every guest-list event still reads: fixtures through the memory store."""

from __future__ import annotations

import pytest

from domain import build_registry
from horizon.memory import MemoryEventStore
from tests.event_fixtures import EventFixture, all_fixtures, replay_fixture


def test_every_registered_event_type_has_a_fixture_for_each_of_its_versions() -> None:
    registry = build_registry()
    have = {(f.event_type, f.schema_version) for f in all_fixtures()}

    needed = {(name, v) for name, model in registry.event_types.items() for v in range(1, model.schema_version + 1)}
    needed |= set(registry.upcasters)

    assert sorted(needed - have) == [], "add tests/fixtures/events/<Type>/v<N>.json for each"


def test_every_fixture_is_of_a_type_the_code_reads_or_upcasts() -> None:
    registry = build_registry()
    known = set(registry.event_types) | {event_type for event_type, _ in registry.upcasters}

    assert sorted({f.event_type for f in all_fixtures()} - known) == []


@pytest.mark.parametrize("fixture", all_fixtures(), ids=lambda f: f.name)
def test_an_old_event_loads_through_the_memory_store(fixture: EventFixture) -> None:
    replay_fixture(MemoryEventStore(), build_registry(), fixture)
