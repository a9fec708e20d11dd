"""The catch-up Lambda's actions in memory: a failing segment applies the rest, then fails and names the failures."""

from __future__ import annotations

import json

import pytest

from horizon.catchup_actions import CatchUpFailed, run_action
from horizon.consumers import ProjectorRuntime
from horizon.memory import MemoryEventStore, MemoryReadStore
from horizon.registry import Registry
from tests import poison_domain
from tests.catch_up_support import COUNTER_KEY, long_history


def test_a_segment_with_a_poisoned_aggregate_applies_the_others_then_fails_naming_it(registry: Registry) -> None:
    events, reads = MemoryEventStore(), MemoryReadStore()
    poisoned = long_history(events, 3)[0].aggregate_id
    long_history(events, 4)
    counter = ProjectorRuntime(poison_domain.FlakyCounter(), registry, reads, events)
    poison_domain.POISON.add(poisoned)
    try:
        with pytest.raises(CatchUpFailed) as failed:
            run_action(
                {"consumer": counter.name, "segment": 0, "total": 1, "generation": None}, {counter.name: counter}
            )
    finally:
        poison_domain.POISON.discard(poisoned)

    assert json.loads(str(failed.value))["failed"] == {f"Invitation#{poisoned}": f"ValueError: poisoned {poisoned}"}
    tally = reads.get(counter.name, COUNTER_KEY)
    assert tally is not None
    assert tally.body == {"events": 4}


def test_an_unknown_action_or_consumer_is_refused(registry: Registry) -> None:
    events, reads = MemoryEventStore(), MemoryReadStore()
    counter = ProjectorRuntime(poison_domain.FlakyCounter(), registry, reads, events)

    with pytest.raises(ValueError, match="unknown action 'explode'"):
        run_action({"action": "explode", "consumer": counter.name}, {counter.name: counter})
    with pytest.raises(LookupError, match="'Nobody' is none of FlakyCounter"):
        run_action({"consumer": "Nobody", "segment": 0, "total": 1}, {counter.name: counter})
