"""The contract every EventStore adapter keeps, as a mixin: subclass it in a test module that provides `store`.

The cases only use the `EventStore` port, so a new adapter proves itself by running this same class.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID, uuid4

import pytest

from horizon.errors import ConcurrencyError, InvalidEvents
from horizon.events import Event, Metadata
from horizon.eventstore import EventStore

THING = "Thing"


def make_event(
    aggregate_id: UUID,
    version: int,
    *,
    aggregate_type: str = THING,
    type: str = "Happened",
    data: dict[str, Any] | None = None,
) -> Event:
    """One event with enough metadata to round-trip through a store."""
    return Event(
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=version,
        type=type,
        data={"n": version} if data is None else data,
        metadata=Metadata(correlation_id="corr", causation_id="cause", command="DoThing", command_id="cmd"),
    )


def make_commit(aggregate_id: UUID, first: int, last: int, **kwargs: Any) -> list[Event]:
    """Consecutive events `first`..`last` of one aggregate."""
    return [make_event(aggregate_id, version, **kwargs) for version in range(first, last + 1)]


class EventStoreContract:
    """Cases every event store must pass; the subclass supplies the `store` fixture."""

    def test_loading_an_unknown_aggregate_returns_no_events(self, store: EventStore) -> None:
        assert store.load(THING, uuid4()) == []

    def test_appended_events_load_in_version_order_with_equal_content(self, store: EventStore) -> None:
        # GIVEN two commits, the first with rich data
        aggregate_id = uuid4()
        first = make_commit(aggregate_id, 1, 3, data={"name": "Zoë", "ratio": 0.5, "nested": {"l": [1, "two", None]}})
        second = make_commit(aggregate_id, 4, 5)
        # WHEN both are appended
        store.append(first, 0)
        store.append(second, 3)
        # THEN the history is every event, equal field by field, in version order
        loaded = store.load(THING, aggregate_id)
        assert loaded == first + second
        assert [event.version for event in loaded] == [1, 2, 3, 4, 5]

    def test_an_event_s_schema_version_survives_the_round_trip(self, store: EventStore) -> None:
        # Upcasting starts from the stored schema version: a store that forgets it reads new events as old ones.
        aggregate_id = uuid4()
        events = [make_event(aggregate_id, 1).model_copy(update={"schema_version": 3}), make_event(aggregate_id, 2)]
        store.append(events, 0)
        assert [event.schema_version for event in store.load(THING, aggregate_id)] == [3, 1]

    def test_loading_after_a_version_returns_only_later_events(self, store: EventStore) -> None:
        aggregate_id = uuid4()
        events = make_commit(aggregate_id, 1, 5)
        store.append(events, 0)

        assert store.load(THING, aggregate_id, after_version=2) == events[2:]
        assert store.load(THING, aggregate_id, after_version=5) == []
        assert store.load(THING, aggregate_id, after_version=0) == events

    def test_a_conflicting_multi_event_commit_leaves_nothing_behind(self, store: EventStore) -> None:
        # GIVEN writer B already moved the aggregate from v1 to v2
        aggregate_id = uuid4()
        store.append(make_commit(aggregate_id, 1, 1), 0)
        winner = make_commit(aggregate_id, 2, 2, data={"by": "B"})
        store.append(winner, 1)
        # WHEN writer A appends v2..v4 from the stale v1
        with pytest.raises(ConcurrencyError):
            store.append(make_commit(aggregate_id, 2, 4, data={"by": "A"}), 1)
        # THEN none of A's events exist, not even v3 and v4 which collided with nothing
        loaded = store.load(THING, aggregate_id)
        assert [event.version for event in loaded] == [1, 2]
        assert loaded[1] == winner[0]

    def test_a_stale_append_raises_concurrency_error_with_expected_and_actual_versions(self, store: EventStore) -> None:
        aggregate_id = uuid4()
        store.append(make_commit(aggregate_id, 1, 3), 0)

        with pytest.raises(ConcurrencyError) as caught:
            store.append(make_commit(aggregate_id, 2, 2), 1)

        assert caught.value.aggregate_type == THING
        assert caught.value.aggregate_id == aggregate_id
        assert caught.value.expected == 1
        assert caught.value.actual == 3

    def test_creating_an_existing_aggregate_raises_concurrency_error(self, store: EventStore) -> None:
        aggregate_id = uuid4()
        store.append(make_commit(aggregate_id, 1, 2), 0)

        with pytest.raises(ConcurrencyError) as caught:
            store.append(make_commit(aggregate_id, 1, 1), 0)

        assert (caught.value.expected, caught.value.actual) == (0, 2)

    def test_an_append_ahead_of_the_stream_raises_concurrency_error(self, store: EventStore) -> None:
        aggregate_id = uuid4()
        store.append(make_commit(aggregate_id, 1, 2), 0)

        with pytest.raises(ConcurrencyError) as caught:
            store.append(make_commit(aggregate_id, 6, 6), 5)

        assert (caught.value.expected, caught.value.actual) == (5, 2)
        assert len(store.load(THING, aggregate_id)) == 2

    def test_an_append_ahead_of_an_empty_stream_reports_actual_version_0(self, store: EventStore) -> None:
        aggregate_id = uuid4()

        with pytest.raises(ConcurrencyError) as caught:
            store.append(make_commit(aggregate_id, 4, 4), 3)

        assert caught.value.expected == 3
        assert caught.value.actual == 0, "an aggregate without events is at version 0, which the store can know"
        assert store.load(THING, aggregate_id) == []

    def test_of_two_writers_from_the_same_version_exactly_one_wins(self, store: EventStore) -> None:
        # GIVEN two writers that both loaded the aggregate at v1
        aggregate_id = uuid4()
        store.append(make_commit(aggregate_id, 1, 1), 0)
        first = make_commit(aggregate_id, 2, 3, data={"writer": "first"})
        second = make_commit(aggregate_id, 2, 2, data={"writer": "second"})
        # WHEN both append from v1, one after the other
        store.append(first, 1)
        with pytest.raises(ConcurrencyError) as caught:
            store.append(second, 1)
        # THEN the first commit is the history, and the second writer learns where the store is
        assert store.load(THING, aggregate_id)[1:] == first
        assert (caught.value.expected, caught.value.actual) == (1, 3)

    def test_of_concurrent_writers_from_the_same_version_exactly_one_wins(self, store: EventStore) -> None:
        # GIVEN an aggregate at v1 and eight writers that all loaded it at v1
        aggregate_id = uuid4()
        store.append(make_commit(aggregate_id, 1, 1), 0)
        writers = 8
        start = threading.Barrier(writers)
        won: list[int] = []
        lost: list[int] = []

        def write(writer: int) -> None:
            commit = make_commit(aggregate_id, 2, 3, data={"writer": writer})
            start.wait()
            try:
                store.append(commit, 1)
                won.append(writer)
            except ConcurrencyError:
                lost.append(writer)

        # WHEN they all append at once
        threads = [threading.Thread(target=write, args=(writer,)) for writer in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # THEN one commit is stored whole, and every other writer was told to retry
        assert len(won) == 1
        assert sorted(won + lost) == list(range(writers))
        loaded = store.load(THING, aggregate_id)
        assert [event.version for event in loaded] == [1, 2, 3]
        assert {event.data["writer"] for event in loaded[1:]} == {won[0]}

    @pytest.mark.parametrize(
        "case", ["two aggregates", "a hole in the versions", "a wrong first version", "no events", "negative expected"]
    )
    def test_a_malformed_append_raises_invalid_events_and_stores_nothing(self, store: EventStore, case: str) -> None:
        aggregate_id = uuid4()
        events, expected = {
            "two aggregates": ([make_event(aggregate_id, 1), make_event(uuid4(), 2)], 0),
            "a hole in the versions": ([make_event(aggregate_id, 1), make_event(aggregate_id, 3)], 0),
            "a wrong first version": ([make_event(aggregate_id, 2)], 0),
            "no events": ([], 0),
            "negative expected": ([make_event(aggregate_id, 1)], -1),
        }[case]

        with pytest.raises(InvalidEvents):
            store.append(events, expected)

        assert store.load(THING, aggregate_id) == []

    def test_aggregates_with_the_same_id_but_different_types_are_isolated(self, store: EventStore) -> None:
        # GIVEN one id used by two aggregate types, and a second id of the first type
        shared_id = uuid4()
        things = make_commit(shared_id, 1, 2, aggregate_type="Thing")
        widgets = make_commit(shared_id, 1, 1, aggregate_type="Widget")
        other = make_commit(uuid4(), 1, 1, aggregate_type="Thing")
        # WHEN each starts from version 0
        store.append(things, 0)
        store.append(widgets, 0)
        store.append(other, 0)
        # THEN each history holds only its own events
        assert store.load("Thing", shared_id) == things
        assert store.load("Widget", shared_id) == widgets
        assert store.load("Gadget", shared_id) == []
