"""The guest limit is an invariant: random clients, a stream that duplicates, reorders and interleaves.

Hypothesis drives random mixes of CreateInvite, AcceptInvite and DeclineInvite from hosts, guests and clients
without roles, attempts at the saga's internal commands from those clients, and stream deliveries that arrive
late, twice, out of order, or in the middle of another consumer's read-modify-write. It checks after every step
that confirmed invitations never exceed GUEST_LIMIT and that no invitation is decided twice, and at quiescence
that every accepted invitation is confirmed or denied exactly once and that nobody is denied while a seat is free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain import build_registry
from domain.guest_list import GUEST_LIST_KEY, GuestListProjector, InvitationProjector
from domain.invitation import GUESTS, HOSTS, AcceptInvite, ConfirmInvite, CreateInvite, DeclineInvite, DenyInvite
from domain.response_saga import ResponseSaga
from horizon.authorization import Forbidden, Principal
from horizon.command_handler import CommandContext, CommandHandler
from horizon.commands import Command
from horizon.consumers import ProjectorRuntime, SagaRuntime, TrackedConsumer
from horizon.errors import AggregateNotFound, DomainError
from horizon.events import Event
from horizon.memory import MemoryReadStore
from horizon.readstore import Write

from .fakes import RecordingEventStore

SLOTS = 5
CLIENTS = {
    "host": Principal.client("host", [HOSTS]),
    "guest": Principal.client("guest", [GUESTS]),
    "stranger": Principal.client("stranger", []),
}
DECISIONS = {"InviteConfirmed", "InviteDenied"}


class InterleavingReadStore(MemoryReadStore):
    """Runs `between` (once) after a consumer has read and before its write lands: a concurrent stream batch."""

    def __init__(self) -> None:
        super().__init__()
        self.between: Callable[[], None] | None = None

    def commit(self, writes: Sequence[Write]) -> None:
        if self.between is not None:
            between, self.between = self.between, None
            between()
        super().commit(writes)


class GuestListMachine(RuleBasedStateMachine):
    """One guest list: the handler, and two instances of each projector and of the saga, over shared stores."""

    def __init__(self) -> None:
        super().__init__()
        self.limit = 0

    @initialize(limit=st.integers(min_value=1, max_value=3))
    def build(self, limit: int) -> None:
        registry = build_registry()
        self.limit = limit
        self.events = RecordingEventStore()
        self.reads = InterleavingReadStore()
        self.handler = CommandHandler(registry, self.events, sleep=lambda seconds: None)
        # Each consumer has its own backlog (its event source mapping) and two instances: Lambdas that may run
        # side by side on different batches.
        self.groups: list[list[TrackedConsumer]] = [
            [ProjectorRuntime(InvitationProjector(), registry, self.reads, self.events) for _ in range(2)],
            [ProjectorRuntime(GuestListProjector(limit), registry, self.reads, self.events) for _ in range(2)],
            [SagaRuntime(ResponseSaga(limit), registry, self.reads, self.events, self.handler) for _ in range(2)],
        ]
        self.backlogs: list[list[tuple[Event, ...]]] = [[] for _ in self.groups]
        self.seen = 0
        self.ids = [uuid4() for _ in range(SLOTS)]

    # Clients

    def _send(self, command: Command, client: str) -> None:
        # A refusal is a fine answer; what matters is what the store holds afterwards.
        with suppress(DomainError, AggregateNotFound, Forbidden):
            self.handler.handle(command, CommandContext(principal=CLIENTS[client]))
        self._publish()

    @rule(slot=st.integers(0, SLOTS - 1), client=st.sampled_from(sorted(CLIENTS)))
    def create(self, slot: int, client: str) -> None:
        self._send(CreateInvite(id=self.ids[slot], name=f"guest {slot}"), client)

    @rule(slot=st.integers(0, SLOTS - 1), client=st.sampled_from(sorted(CLIENTS)), accept=st.booleans())
    def answer(self, slot: int, client: str, accept: bool) -> None:
        command = AcceptInvite if accept else DeclineInvite
        self._send(command(id=self.ids[slot]), client)

    @rule(slot=st.integers(0, SLOTS - 1), client=st.sampled_from(sorted(CLIENTS)), confirm=st.booleans())
    def decide_as_a_client(self, slot: int, client: str, confirm: bool) -> None:
        before = len(self.events.commits)
        command = ConfirmInvite if confirm else DenyInvite
        with pytest.raises(Forbidden):
            self.handler.handle(command(id=self.ids[slot]), CommandContext(principal=CLIENTS[client]))
        assert len(self.events.commits) == before

    # The stream

    def _publish(self) -> None:
        fresh = self.events.commits[self.seen :]
        self.seen = len(self.events.commits)
        for backlog in self.backlogs:
            backlog.extend(fresh)

    def _deliver(self, group: int, pick: int, instance: int, keep: bool) -> None:
        backlog = self.backlogs[group]
        commit = backlog[pick % len(backlog)] if keep else backlog.pop(pick % len(backlog))
        consumers = self.groups[group]
        consumers[instance % len(consumers)].process(commit)
        self._publish()

    @precondition(lambda self: any(self.backlogs))
    @rule(group=st.integers(0, 2), pick=st.integers(0, 50), instance=st.integers(0, 1), keep=st.booleans())
    def deliver(self, group: int, pick: int, instance: int, keep: bool) -> None:
        """Any pending commit, in any order; `keep` leaves it pending, so it is delivered again later."""
        if self.backlogs[group]:
            self._deliver(group, pick, instance, keep)

    @precondition(lambda self: any(len(backlog) >= 2 for backlog in self.backlogs))
    @rule(group=st.integers(0, 2), first=st.integers(0, 50), second=st.integers(0, 50))
    def deliver_two_batches_at_once(self, group: int, first: int, second: int) -> None:
        """Instance 1 of a consumer commits a batch between instance 0's read and its write."""
        backlog = self.backlogs[group]
        if len(backlog) < 2:
            return
        one = backlog.pop(first % len(backlog))
        other = backlog.pop(second % len(backlog))
        self.reads.between = lambda: self.groups[group][1].process(other)
        self.groups[group][0].process(one)
        if self.reads.between is not None:  # instance 0 had nothing to write (a duplicate): no overlap after all
            self.reads.between = None
            self.groups[group][1].process(other)
        self._publish()

    # Properties

    def _histories(self) -> dict[UUID, list[str]]:
        return {i: [e.type for e in self.events.load("Invitation", i)] for i in self.ids}

    @invariant()
    def never_more_confirmed_than_the_limit_and_never_decided_twice(self) -> None:
        if not self.limit:
            return
        histories = self._histories()
        assert sum("InviteConfirmed" in h for h in histories.values()) <= self.limit
        assert all(sum(t in DECISIONS for t in h) <= 1 for h in histories.values())

    def teardown(self) -> None:
        if not self.limit:
            return
        # Quiescence: the stream delivers everything still pending, including what that delivery causes.
        while any(self.backlogs):
            for group, backlog in enumerate(self.backlogs):
                while backlog:
                    self._deliver(group, 0, 0, keep=False)
        histories = self._histories()
        accepted = [h for h in histories.values() if "InviteAccepted" in h]
        assert all(sum(t in DECISIONS for t in h) == 1 for h in accepted), histories
        confirmed = sum("InviteConfirmed" in h for h in histories.values())
        denied = sum("InviteDenied" in h for h in histories.values())
        assert confirmed <= self.limit
        if denied:
            assert confirmed == self.limit, f"a guest was denied while {self.limit - confirmed} seat(s) were free"
        # The read side agrees with the store once everything is delivered.
        counters = self.reads.get(GuestListProjector.name, GUEST_LIST_KEY)
        if accepted:
            assert counters is not None
            assert (counters.body["num_confirmed"], counters.body["num_denied"]) == (confirmed, denied)


GuestListMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_the_guest_limit_holds_under_any_interleaving = GuestListMachine.TestCase
