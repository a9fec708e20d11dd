"""Every stored shape of every guest-list event still reads: fixtures through the DynamoDB store on moto."""

from __future__ import annotations

import pytest

from domain import build_registry
from horizon.dynamodb import DynamoDBEventStore
from tests.event_fixtures import EventFixture, all_fixtures, replay_fixture


@pytest.mark.parametrize("fixture", all_fixtures(), ids=lambda f: f.name)
def test_an_old_event_loads_through_the_dynamodb_store(
    dynamodb_event_store: DynamoDBEventStore, fixture: EventFixture
) -> None:
    replay_fixture(dynamodb_event_store, build_registry(), fixture)
