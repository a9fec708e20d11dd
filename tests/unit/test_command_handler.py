"""The command handler: retries on concurrent writers, never on rejections, and deduplicates by command id."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest

from domain.invitation import AcceptInvite, CreateInvite, DeclineInvite
from horizon.command_handler import CommandHandler
from horizon.errors import CommandIdReused, ConcurrencyError, DomainError
from horizon.events import Event
from horizon.eventstore import Snapshot
from horizon.registry import Registry, UnknownType
from horizon.retry import COMMAND_CONFLICTS, RetryPolicy
from tests.principals import as_host

from .fakes import RecordingEventStore


def create(handler: CommandHandler) -> UUID:
    invite_id = uuid4()
    handler.handle(CreateInvite(id=invite_id, name="Athena"), as_host())
    return invite_id


def test_a_conflict_is_retried_and_succeeds(
    handler: CommandHandler, events: RecordingEventStore, sleeps: list[float]
) -> None:
    # GIVEN an invite, and a store whose next append conflicts
    invite_id = create(handler)
    events.conflicts = 1
    calls = events.append_calls
    # WHEN the guest accepts
    result = handler.handle(AcceptInvite(id=invite_id), as_host())
    # THEN the second attempt succeeded after one backoff within the first jitter window
    assert [event.type for event in result.events] == ["InviteAccepted"]
    assert events.append_calls - calls == 2
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= COMMAND_CONFLICTS.base_seconds
    assert [event.type for event in events.load("Invitation", invite_id)] == ["InviteCreated", "InviteAccepted"]


def test_conflicts_beyond_max_attempts_raise_concurrency_error(registry: Registry, events: RecordingEventStore) -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.04)
    handler = CommandHandler(registry, events, retry=policy, sleep=sleeps.append)
    invite_id = create(handler)
    events.conflicts = 10
    calls = events.append_calls

    with pytest.raises(ConcurrencyError):
        handler.handle(AcceptInvite(id=invite_id), as_host())

    assert events.append_calls - calls == 3
    assert len(sleeps) == 2
    assert len(events.load("Invitation", invite_id)) == 1


class InterleavingEventStore(RecordingEventStore):
    """Lets another writer's command land just before our next append, so our append really conflicts."""

    def __init__(self) -> None:
        super().__init__()
        self.interloper: tuple[CommandHandler, DeclineInvite] | None = None

    def append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None = None) -> None:
        if self.interloper is not None:
            other, command = self.interloper
            self.interloper = None
            other.handle(command, as_host())
        super().append(events, expected_version, snapshot)


def test_a_retry_decides_again_from_the_fresh_history(registry: Registry) -> None:
    # GIVEN an invite, and a guest who declines while our accept is between load and append
    store = InterleavingEventStore()
    handler = CommandHandler(registry, store, sleep=lambda seconds: None)
    invite_id = create(handler)
    store.interloper = (CommandHandler(registry, store), DeclineInvite(id=invite_id))
    # WHEN the accept is retried after its conflict
    with pytest.raises(DomainError, match="already declined"):
        handler.handle(AcceptInvite(id=invite_id), as_host())
    # THEN the rules saw the decline, and only the decline was stored
    assert [event.type for event in store.load("Invitation", invite_id)] == ["InviteCreated", "InviteDeclined"]


def test_a_domain_error_is_not_retried(
    handler: CommandHandler, events: RecordingEventStore, sleeps: list[float]
) -> None:
    invite_id = create(handler)
    handler.handle(DeclineInvite(id=invite_id), as_host())
    loads, appends = events.load_calls, events.append_calls

    with pytest.raises(DomainError):
        handler.handle(AcceptInvite(id=invite_id), as_host())

    assert events.load_calls - loads == 1
    assert events.append_calls == appends
    assert sleeps == []


def test_the_same_command_id_twice_appends_once(handler: CommandHandler, events: RecordingEventStore) -> None:
    # GIVEN an accept that went through
    invite_id = create(handler)
    context = as_host(command_id="accept-once")
    first = handler.handle(AcceptInvite(id=invite_id), context)
    appends = len(events.commits)
    # WHEN the very same command is sent again (a client retry)
    second = handler.handle(AcceptInvite(id=invite_id), context)
    # THEN it is reported as a duplicate with the original events, and nothing is appended
    assert not first.duplicate
    assert second.duplicate
    assert second.events == first.events
    assert second.version == first.version == 2
    assert len(events.commits) == appends


def test_a_retried_create_is_a_duplicate_not_a_conflict(
    handler: CommandHandler, events: RecordingEventStore, sleeps: list[float]
) -> None:
    invite_id = uuid4()
    context = as_host(command_id="create-once")
    handler.handle(CreateInvite(id=invite_id, name="Athena"), context)

    again = handler.handle(CreateInvite(id=invite_id, name="Athena"), context)

    # The retry presumed the invitation new; its refused write returned the head that answers it, at once
    assert again.duplicate
    assert sleeps == []
    assert len(events.load("Invitation", invite_id)) == 1


def test_a_creation_reads_nothing_before_its_one_write(handler: CommandHandler, events: RecordingEventStore) -> None:
    loads, appends = events.load_calls, events.append_calls

    result = handler.handle(CreateInvite(id=uuid4(), name="Athena"), as_host())

    assert result.version == 1
    assert events.load_calls == loads
    assert events.append_calls - appends == 1


def test_creating_an_existing_aggregate_is_refused_from_the_head_its_refused_write_returned(
    handler: CommandHandler, events: RecordingEventStore, sleeps: list[float]
) -> None:
    # GIVEN an invitation someone else created
    invite_id = create(handler)
    loads, appends = events.load_calls, events.append_calls
    # WHEN another command creates it again
    with pytest.raises(DomainError, match="already exists"):
        handler.handle(CreateInvite(id=invite_id, name="Hermes"), as_host())
    # THEN the one refused write told the handler so: no read, no pause, nothing stored
    assert events.append_calls - appends == 1
    assert events.load_calls == loads
    assert sleeps == []
    assert [event.type for event in events.load("Invitation", invite_id)] == ["InviteCreated"]


def test_a_duplicate_is_found_even_after_later_events(handler: CommandHandler) -> None:
    invite_id = create(handler)
    context = as_host(command_id="accept-once")
    handler.handle(AcceptInvite(id=invite_id), context)
    handler.handle(AcceptInvite(id=invite_id), as_host())  # another command, a no-op

    again = handler.handle(AcceptInvite(id=invite_id), context)

    assert again.duplicate
    assert [event.version for event in again.events] == [2]


def test_metadata_carries_the_context_ids_and_the_command(handler: CommandHandler) -> None:
    invite_id = create(handler)
    context = as_host(command_id="cmd-1", correlation_id="request-7", causation_id="event-3")

    (event,) = handler.handle(AcceptInvite(id=invite_id), context).events

    assert event.metadata.correlation_id == "request-7"
    assert event.metadata.causation_id == "event-3"
    assert event.metadata.command == "AcceptInvite"
    assert event.metadata.command_id == "cmd-1"


def test_without_trace_ids_the_command_id_starts_the_chain(handler: CommandHandler) -> None:
    invite_id = create(handler)

    (event,) = handler.handle(AcceptInvite(id=invite_id), as_host(command_id="cmd-2")).events

    assert (event.metadata.correlation_id, event.metadata.causation_id) == ("cmd-2", "cmd-2")


def test_each_command_stamps_its_own_command_id_on_its_events(handler: CommandHandler) -> None:
    invite_id = create(handler)
    handler.handle(AcceptInvite(id=invite_id), as_host())

    loaded = handler.load("Invitation", invite_id)[1]

    assert [event.version for event in loaded] == [1, 2]
    assert len({event.metadata.command_id for event in loaded}) == 2


def test_an_unregistered_command_is_an_unknown_type(handler: CommandHandler) -> None:
    class Unregistered(AcceptInvite):
        pass

    with pytest.raises(UnknownType, match="Unregistered"):
        handler.handle(Unregistered(id=uuid4()), as_host())


def test_a_command_id_reused_for_a_different_command_is_refused(
    handler: CommandHandler, events: RecordingEventStore
) -> None:
    # GIVEN an accept sent with a client's idempotency key
    invite_id = create(handler)
    handler.handle(AcceptInvite(id=invite_id), as_host(command_id="key:k1"))
    appends = len(events.commits)
    # WHEN the same key comes back with a different command
    with pytest.raises(CommandIdReused, match="already used for AcceptInvite"):
        handler.handle(DeclineInvite(id=invite_id), as_host(command_id="key:k1"))
    # THEN nothing is appended
    assert len(events.commits) == appends
