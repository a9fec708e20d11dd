"""A second, unrelated domain (counters) runs on the same framework: Horizon knows nothing of guest lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar
from uuid import uuid4

import pytest
from pydantic import BaseModel, Field

from domain import build_registry
from domain.invitation import CreateInvite
from horizon.aggregate import Aggregate
from horizon.authorization import public
from horizon.command_handler import CommandHandler
from horizon.commands import Command
from horizon.consumers import ProjectorRuntime
from horizon.errors import AggregateNotFound, DomainError
from horizon.events import Event, EventData
from horizon.memory import MemoryEventStore, MemoryReadStore
from horizon.projection import Projector
from horizon.registry import Registry, UnknownType
from tests.principals import as_host

LIMIT = 10


class OpenCounter(Command):
    audience = public("hosts")

    label: Annotated[str, Field(min_length=1)]


class Increment(Command):
    audience = public("hosts")

    by: Annotated[int, Field(ge=1)] = 1


class CounterOpened(EventData):
    label: str


class Incremented(EventData):
    by: int


class CounterState(BaseModel):
    label: str = ""
    total: int = 0


class Counter(Aggregate):
    """Counts up to LIMIT and refuses to pass it."""

    state_model = CounterState
    state: CounterState

    def handle(self, command: Command) -> Sequence[EventData]:
        match command:
            case OpenCounter(label=label):
                return [CounterOpened(label=label)]
            case Increment(by=by):
                if self.state.total + by > LIMIT:
                    raise self.reject(f"counter {self.id} would pass {LIMIT}")
                return [Incremented(by=by)]
        raise self.reject(f"{command.command_type} is not a Counter command")

    def apply(self, event: EventData) -> None:
        if isinstance(event, CounterOpened):
            self.state.label = event.label
        if isinstance(event, Incremented):
            self.state.total += event.by


class Total(BaseModel):
    label: str = ""
    total: int = 0


class TotalsProjector(Projector[Total]):
    """One Total per counter."""

    name: ClassVar[str] = "Totals"
    model = Total

    def document_key(self, event: Event) -> str | None:
        return str(event.aggregate_id) if event.aggregate_type == "Counter" else None

    def project(self, current: Total | None, event: Event, data: EventData) -> Total | None:
        total = current or Total()
        if isinstance(data, CounterOpened):
            return total.model_copy(update={"label": data.label})
        if isinstance(data, Incremented):
            return total.model_copy(update={"total": total.total + data.by})
        return total


class GrandTotalProjector(Projector[Total]):
    """One Total across every counter."""

    name: ClassVar[str] = "GrandTotal"
    model = Total

    def document_key(self, event: Event) -> str | None:
        return "all" if event.type == Incremented.event_type else None

    def project(self, current: Total | None, event: Event, data: EventData) -> Total | None:
        assert isinstance(data, Incremented)
        total = current or Total(label="all")
        return total.model_copy(update={"total": total.total + data.by})


def counter_registry(registry: Registry | None = None) -> Registry:
    return (registry or Registry()).register(
        Counter, creates=[OpenCounter], commands=[Increment], events=[CounterOpened, Incremented]
    )


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def counters(store: MemoryEventStore) -> CommandHandler:
    return CommandHandler(counter_registry(), store, sleep=lambda seconds: None)


def test_the_registry_names_commands_and_aggregates_by_class_name() -> None:
    registry = counter_registry()

    assert list(registry.commands) == ["OpenCounter", "Increment"]
    assert registry.binding("OpenCounter").creates
    assert not registry.binding(Increment).creates
    assert registry.aggregate("Counter") is Counter
    with pytest.raises(UnknownType):
        registry.binding("CreateInvite")


def test_registering_a_type_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        counter_registry(counter_registry())


def test_commands_change_the_counter_and_its_history_rebuilds_it(
    counters: CommandHandler, store: MemoryEventStore
) -> None:
    counter_id = uuid4()
    counters.handle(OpenCounter(id=counter_id, label="clicks"), as_host())
    counters.handle(Increment(id=counter_id, by=3), as_host())
    result = counters.handle(Increment(id=counter_id), as_host())

    counter, history = counters.load("Counter", counter_id)

    assert result.version == 3
    assert isinstance(counter, Counter)
    assert (counter.state.total, counter.version) == (4, 3)
    assert counter.snapshot() == {"label": "clicks", "total": 4}
    assert [event.type for event in history] == ["CounterOpened", "Incremented", "Incremented"]
    assert store.load("Counter", counter_id) == history


def test_the_toy_rules_reject_through_the_same_errors(counters: CommandHandler) -> None:
    counter_id = uuid4()
    with pytest.raises(AggregateNotFound):
        counters.handle(Increment(id=counter_id), as_host())
    counters.handle(OpenCounter(id=counter_id, label="clicks"), as_host())
    counters.handle(Increment(id=counter_id, by=LIMIT), as_host())

    with pytest.raises(DomainError, match=f"would pass {LIMIT}") as caught:
        counters.handle(Increment(id=counter_id), as_host())

    assert (caught.value.aggregate_type, caught.value.aggregate_id) == ("Counter", counter_id)


def test_projectors_of_the_toy_domain_keep_totals(counters: CommandHandler, store: MemoryEventStore) -> None:
    # GIVEN two counters and their projectors over a memory read store
    reads = MemoryReadStore()
    registry = counter_registry()
    runtimes = [ProjectorRuntime(p, registry, reads, store) for p in (TotalsProjector(), GrandTotalProjector())]
    clicks, views = uuid4(), uuid4()
    commits = [
        counters.handle(OpenCounter(id=clicks, label="clicks"), as_host()).events,
        counters.handle(OpenCounter(id=views, label="views"), as_host()).events,
        counters.handle(Increment(id=clicks, by=2), as_host()).events,
        counters.handle(Increment(id=views, by=5), as_host()).events,
        counters.handle(Increment(id=clicks, by=1), as_host()).events,
    ]
    # WHEN every commit is delivered, the last one twice
    for commit in [*commits, commits[-1]]:
        for runtime in runtimes:
            runtime.process(commit)
    # THEN each counter and the grand total are right
    listed = reads.list("Totals", 10).items
    assert {doc.key: doc.body for doc in listed} == {
        str(clicks): {"label": "clicks", "total": 3},
        str(views): {"label": "views", "total": 5},
    }
    grand = reads.get("GrandTotal", "all")
    assert grand is not None
    assert grand.body == {"label": "all", "total": 8}


def test_two_domains_share_one_registry_and_one_store(store: MemoryEventStore) -> None:
    registry = counter_registry(build_registry())
    handler = CommandHandler(registry, store)
    shared_id = uuid4()

    handler.handle(OpenCounter(id=shared_id, label="guests"), as_host())
    handler.handle(CreateInvite(id=shared_id, name="Athena"), as_host())

    assert [event.type for event in store.load("Counter", shared_id)] == ["CounterOpened"]
    assert [event.type for event in store.load("Invitation", shared_id)] == ["InviteCreated"]
    assert set(registry.aggregate_types) == {"Invitation", "Counter"}
