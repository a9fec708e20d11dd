"""Schema evolution in memory: upcaster chains, tolerant reading, strict writing, and unreadable histories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from domain.invitation import Invitation
from horizon.aggregate import Aggregate
from horizon.command_handler import CommandHandler
from horizon.commands import Command
from horizon.errors import InvalidEvents, UnreadableHistory
from horizon.events import Event, EventData, Metadata
from horizon.memory import MemoryEventStore
from horizon.registry import Registry
from horizon.upcasting import RawEvent, Upcaster, add_field, rename_field, rename_type, split
from tests.principals import as_saga

META = Metadata(correlation_id="c", causation_id="c", command="Test")


class Open(Command):
    owner: str


class Close(Command):
    pass


class AccountOpened(EventData):
    """v1 {"name"}; v2 renamed it {"owner"}; v3 added {"currency"}."""

    schema_version: ClassVar[int] = 3

    owner: str
    currency: str


class Deposited(EventData):
    amount: int


class Labelled(EventData):
    label: str


class AccountClosed(EventData):
    """Retired: accounts are no longer closed, but old histories still say some were."""

    retired: ClassVar[bool] = True


class AccountState(BaseModel):
    owner: str = ""
    currency: str = ""
    balance: int = 0
    label: str = ""
    closed: bool = False


class Account(Aggregate):
    state_model = AccountState
    state: AccountState

    def handle(self, command: Command) -> Sequence[EventData]:
        match command:
            case Open(owner=owner):
                return [AccountOpened(owner=owner, currency="EUR")]
            case Close():
                return [AccountClosed()]
        raise self.reject("unknown command")

    def apply(self, event: EventData) -> None:
        match event:
            case AccountOpened(owner=owner, currency=currency):
                self.state.owner, self.state.currency = owner, currency
            case Deposited(amount=amount):
                self.state.balance += amount
            case Labelled(label=label):
                self.state.label = label
            case AccountClosed():
                self.state.closed = True


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("AccountOpened", 1): rename_field("name", "owner"),
    ("AccountOpened", 2): add_field("currency", "EUR"),
    # Deposits were once called "Credited", and "LabelledDeposit" was split into a deposit and a label.
    ("Credited", 1): rename_type("Deposited"),
    ("LabelledDeposit", 1): split(
        lambda d: RawEvent("Deposited", 1, {"amount": d["amount"]}),
        lambda d: RawEvent("Labelled", 1, {"label": d["label"]}),
    ),
}


def accounts() -> Registry:
    return Registry().register(
        Account,
        creates=[Open],
        commands=[Close],
        events=[AccountOpened, Deposited, Labelled, AccountClosed],
        upcasters=UPCASTERS,
    )


def stored(event_type: str, data: dict[str, Any], schema_version: int = 1, version: int = 1, **more: Any) -> Event:
    return Event(
        aggregate_type=more.get("aggregate_type", "Account"),
        aggregate_id=more.get("aggregate_id", uuid4()),
        version=version,
        type=event_type,
        schema_version=schema_version,
        data=data,
        metadata=META,
    )


def test_a_version_1_event_is_upcast_through_every_step_to_the_current_version() -> None:
    [data] = accounts().decode(stored("AccountOpened", {"name": "Ada"}))

    assert data == AccountOpened(owner="Ada", currency="EUR")


def test_an_event_at_an_intermediate_version_joins_the_chain_where_it_left_off() -> None:
    [data] = accounts().decode(stored("AccountOpened", {"owner": "Ada"}, schema_version=2))

    assert data == AccountOpened(owner="Ada", currency="EUR")


def test_an_event_at_the_current_version_is_read_as_stored() -> None:
    [data] = accounts().decode(stored("AccountOpened", {"owner": "Ada", "currency": "USD"}, schema_version=3))

    assert data == AccountOpened(owner="Ada", currency="USD")


def test_a_renamed_event_type_is_read_as_its_new_type() -> None:
    assert accounts().decode(stored("Credited", {"amount": 5})) == [Deposited(amount=5)]


def test_a_split_event_is_read_as_two_events_applied_at_the_same_version() -> None:
    registry, store = accounts(), MemoryEventStore()
    account_id = uuid4()
    store.append([stored("AccountOpened", {"name": "Ada"}, aggregate_id=account_id)], 0)
    store.append([stored("LabelledDeposit", {"amount": 7, "label": "rent"}, version=2, aggregate_id=account_id)], 1)

    account, _ = CommandHandler(registry, store).load("Account", account_id)

    assert account.version == 2
    assert account.snapshot() == {"owner": "Ada", "currency": "EUR", "balance": 7, "label": "rent", "closed": False}


def test_a_retired_event_type_is_still_read_but_never_emitted() -> None:
    registry, store = accounts(), MemoryEventStore()
    handler = CommandHandler(registry, store)
    old, new = uuid4(), uuid4()
    handler.handle(Open(id=old, owner="Ada"), as_saga())
    store.append([stored("AccountClosed", {}, version=2, aggregate_id=old)], 1)
    handler.handle(Open(id=new, owner="Bo"), as_saga())

    account, _ = handler.load("Account", old)
    with pytest.raises(InvalidEvents, match="retired"):
        handler.handle(Close(id=new), as_saga())

    assert isinstance(account.state, AccountState)
    assert account.state.closed
    assert [e.type for e in store.load("Account", new)] == ["AccountOpened"]


def test_a_field_the_model_dropped_is_ignored_when_reading() -> None:
    [data] = accounts().decode(stored("Deposited", {"amount": 3, "memo": "a field removed long ago"}))

    assert data == Deposited(amount=3)


def test_writing_stays_strict_about_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="memo"):
        Deposited(amount=3, memo="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="memo"):
        Open.model_validate({"id": str(uuid4()), "owner": "Ada", "memo": "x"})


def test_new_events_carry_their_type_s_schema_version() -> None:
    handler = CommandHandler(accounts(), MemoryEventStore())

    result = handler.handle(Open(id=uuid4(), owner="Ada"), as_saga())

    assert [(e.type, e.schema_version) for e in result.events] == [("AccountOpened", 3)]


def test_an_envelope_stored_before_schema_versions_existed_is_version_1() -> None:
    envelope = stored("Deposited", {"amount": 1}).model_dump(mode="json")
    del envelope["schema_version"]

    assert Event.model_validate(envelope).schema_version == 1


def test_emitting_an_unregistered_event_type_is_refused() -> None:
    class Stray(EventData):
        pass

    registry = accounts()
    with pytest.raises(InvalidEvents, match="Stray"):
        registry.encode(Stray())


def failing(data: dict[str, Any]) -> dict[str, Any]:
    raise KeyError("amount_in_cents")


@pytest.mark.parametrize(
    ("event", "registry", "reason"),
    [
        pytest.param(stored("Withdrawn", {"amount": 1}, version=4), accounts(), "not registered", id="unknown-type"),
        pytest.param(
            stored("Deposited", {"amount": 1}, schema_version=2, version=4), accounts(), "no upcaster", id="future"
        ),
        pytest.param(
            stored("Deposited", {"amount": "lots"}, version=4), accounts(), "ValidationError", id="invalid-payload"
        ),
        pytest.param(
            stored("Gone", {}, version=4),
            Registry().register(Account, creates=[], commands=[], events=[Deposited], upcasters={("Gone", 1): failing}),
            "KeyError",
            id="failing-upcaster",
        ),
        pytest.param(
            stored("Ping", {}, version=4),
            Registry().register(
                Account,
                creates=[],
                commands=[],
                events=[Deposited],
                upcasters={("Ping", 1): rename_type("Pong"), ("Pong", 1): rename_type("Ping")},
            ),
            "cycle",
            id="cycle",
        ),
    ],
)
def test_a_history_the_code_cannot_read_names_the_aggregate_type_and_versions(
    event: Event, registry: Registry, reason: str
) -> None:
    with pytest.raises(UnreadableHistory) as caught:
        registry.decode(event)

    error = caught.value
    assert error.facts() == {
        "aggregate_type": "Account",
        "aggregate_id": str(event.aggregate_id),
        "version": 4,
        "event_type": event.type,
        "schema_version": event.schema_version,
    }
    assert reason in error.reason
    assert str(event.aggregate_id) in str(error)


def test_registering_an_upcaster_twice_is_refused() -> None:
    registry = accounts()
    with pytest.raises(ValueError, match="Credited v1 is registered twice"):
        registry.register(
            Invitation, creates=[], commands=[], events=[], upcasters={("Credited", 1): rename_type("Deposited")}
        )
