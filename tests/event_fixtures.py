"""Stored events in their old shapes (tests/fixtures/events/<Type>/v<N>.json), replayed through a real store.

Each file holds `stored` (the envelope exactly as that version of the code wrote it) and `reads_as` (what
today's code must decode it to). A change that can no longer read an old event fails these tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from horizon.events import Event
from horizon.eventstore import EventStore
from horizon.history import replay
from horizon.registry import Registry

FIXTURES = Path(__file__).parent / "fixtures" / "events"


@dataclass(frozen=True)
class EventFixture:
    event_type: str
    schema_version: int
    stored: dict[str, Any]
    reads_as: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return f"{self.event_type}/v{self.schema_version}"


def all_fixtures() -> list[EventFixture]:
    """Every fixture file, in name order."""
    fixtures = []
    for path in sorted(FIXTURES.glob("*/v*.json")):
        doc = json.loads(path.read_text())
        fixtures.append(EventFixture(path.parent.name, int(path.stem[1:]), doc["stored"], doc["reads_as"]))
    return fixtures


def replay_fixture(store: EventStore, registry: Registry, fixture: EventFixture) -> None:
    """Append the old envelope as a new aggregate's first event, load it back, decode it and apply it."""
    assert fixture.stored["type"] == fixture.event_type
    assert fixture.stored.get("schema_version", 1) == fixture.schema_version
    envelope = {**fixture.stored, "event_id": str(uuid4()), "aggregate_id": str(uuid4()), "version": 1}
    event = Event.model_validate(envelope)
    store.append([event], 0)

    [loaded] = store.load(event.aggregate_type, event.aggregate_id)
    assert loaded.schema_version == fixture.schema_version, "the store must keep the schema version"
    decoded = registry.decode(loaded)
    aggregate = replay(registry, loaded.aggregate_type, loaded.aggregate_id, [loaded])

    assert [{"type": d.event_type, "data": d.model_dump(mode="json")} for d in decoded] == fixture.reads_as
    assert aggregate.version == 1
