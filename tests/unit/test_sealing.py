"""Sealing in the write and read paths, and forgetting an invitee: in memory, through the command handler."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from domain import build_projectors, build_registry
from domain.guest_list import GUEST_LIST_KEY, GuestList, InvitationView
from domain.invitation import AcceptInvite, ConfirmInvite, CreateInvite, DeclineInvite, ForgetInvitee, InvitationState
from domain.response_saga import ResponseSaga
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime, SagaRuntime
from horizon.errors import DomainError
from horizon.events import Event
from horizon.memory import MemoryEventStore, MemoryReadStore
from horizon.memory.datakeys import MemoryDataKeys
from horizon.privacy.cipher import FieldCipher, is_sealed
from horizon.privacy.marking import REDACTED, subject_of
from horizon.privacy.sealing import Sealer, SealingEventStore
from horizon.readstore import Write
from horizon.registry import Registry
from tests.principals import as_host

NAME, EMAIL = "Athena Parthenos", "athena@olympus.example"


class CountingDataKeys(MemoryDataKeys):
    """Counts batched key reads, like round trips to the keys table."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        self.reads += 1
        return super().keys_for_reading(subjects)


class World:
    """A sealing store over a memory store, its handler and the guest-list projectors."""

    def __init__(self) -> None:
        self.registry: Registry = build_registry()
        self.keys = CountingDataKeys()
        self.raw = MemoryEventStore()
        self.sealer = Sealer(self.registry, FieldCipher(self.keys))
        self.store = SealingEventStore(self.raw, self.sealer)
        self.handler = CommandHandler(self.registry, self.store)
        self.reads = MemoryReadStore()
        self.projectors = [ProjectorRuntime(p, self.registry, self.reads, self.store) for p in build_projectors(2)]

    def project(self, commits: list[list[Event]]) -> None:
        opened = self.sealer.open_commits(commits)
        for runtime in self.projectors:
            assert runtime.process_batch(opened) == {}

    def view(self, invite: UUID) -> InvitationView:
        document = self.reads.get("Invitation", str(invite))
        assert document is not None
        return InvitationView.model_validate(document.body)

    def counters(self) -> GuestList:
        document = self.reads.get("GuestList", GUEST_LIST_KEY)
        assert document is not None
        return GuestList.model_validate(document.body)

    def raw_text(self, invite: UUID) -> str:
        head = self.raw.load_head("Invitation", invite)
        stored = [e.model_dump(mode="json") for e in self.raw.load("Invitation", invite)]
        return json.dumps(stored) + (head.snapshot.state if head.snapshot else "")


@pytest.fixture
def world() -> World:
    return World()


def create(world: World, name: str = NAME, email: str | None = EMAIL) -> UUID:
    invite = uuid4()
    world.handler.handle(CreateInvite(id=invite, name=name, age=30, email=email), as_host())
    return invite


def test_the_e_mail_is_normalised_and_a_malformed_one_is_refused() -> None:
    assert CreateInvite(id=uuid4(), name="A", email="  Athena@Olympus.EXAMPLE ").email == EMAIL
    with pytest.raises(ValidationError):
        CreateInvite(id=uuid4(), name="A", email="not an address")


def test_stored_events_and_the_snapshot_hold_no_personal_data_in_clear(world: World) -> None:
    invite = create(world)
    world.handler.handle(AcceptInvite(id=invite), as_host())

    stored = world.raw.load("Invitation", invite)[0].data
    assert all(is_sealed(stored[field]) for field in ("name", "age", "email"))
    snapshot = world.raw.load_head("Invitation", invite).snapshot
    assert snapshot is not None
    assert is_sealed(snapshot.state)
    assert NAME not in world.raw_text(invite)
    assert EMAIL not in world.raw_text(invite)


def test_loading_opens_the_personal_fields_and_the_snapshot_decides(world: World) -> None:
    invite = create(world)
    world.handler.handle(DeclineInvite(id=invite), as_host())

    assert world.store.load("Invitation", invite)[0].data == {"name": NAME, "age": 30, "email": EMAIL}
    with pytest.raises(DomainError, match=f"{NAME} already declined"):
        CommandHandler(world.registry, world.store).handle(AcceptInvite(id=invite), as_host())


def test_forgetting_deletes_the_key_and_the_history_loads_redacted(world: World) -> None:
    invite = create(world)
    world.handler.handle(AcceptInvite(id=invite), as_host())

    result = world.handler.handle(ForgetInvitee(id=invite), as_host())

    assert [e.type for e in result.events] == ["InviteeForgotten"]
    assert result.events[0].data == {}
    assert world.keys.keys[subject_of("Invitation", invite)] is None
    assert world.store.load("Invitation", invite)[0].data == {"name": REDACTED, "age": None, "email": None}
    assert world.raw.load_head("Invitation", invite).snapshot is None
    invitation, _ = world.handler.load("Invitation", invite)
    state = InvitationState.model_validate(invitation.snapshot())
    assert (state.name, state.email, state.status, state.forgotten) == (REDACTED, None, "accepted", True)


def test_a_forgotten_invitation_still_answers_commands_and_forgetting_twice_changes_nothing(world: World) -> None:
    invite = create(world)
    world.handler.handle(ForgetInvitee(id=invite), as_host())
    cold = CommandHandler(world.registry, world.store)

    assert cold.handle(AcceptInvite(id=invite), as_host()).version == 3
    assert cold.handle(ForgetInvitee(id=invite), as_host()).events == ()
    with pytest.raises(DomainError, match=re.escape(f"{REDACTED} already accepted")):
        cold.handle(DeclineInvite(id=invite), as_host())


def test_creating_a_forgotten_invitation_again_is_refused_as_existing_and_creates_no_new_key(world: World) -> None:
    # GIVEN an invitation whose invitee was forgotten
    invite = create(world)
    world.handler.handle(ForgetInvitee(id=invite), as_host())
    # WHEN a creation presumes the id new (and so finds the subject's key deleted before its write is refused)
    with pytest.raises(DomainError, match="already exists"):
        CommandHandler(world.registry, world.store).handle(CreateInvite(id=invite, name=NAME), as_host())
    # THEN it answers from the store's head, as for any existing invitation, and forgetting stays final
    assert world.keys.keys[subject_of("Invitation", invite)] is None
    assert [e.type for e in world.raw.load("Invitation", invite)] == ["InviteCreated", "InviteeForgotten"]


def test_consumers_open_a_batch_with_one_key_read_and_re_project_redacted(world: World) -> None:
    invites = [create(world, name=f"Guest {n}", email=f"g{n}@example.org") for n in range(3)]
    commits = [list(world.raw.load("Invitation", i)) for i in invites]  # sealed, as the stream carries them
    accepted = [list(world.handler.handle(AcceptInvite(id=i), as_host()).events) for i in invites]
    before = world.keys.reads

    world.project(commits + accepted)

    assert world.keys.reads == before + 1
    assert world.view(invites[0]).name == "Guest 0"
    counters = world.counters()

    world.project([list(world.handler.handle(ForgetInvitee(id=invites[0]), as_host()).events)])

    forgotten = world.view(invites[0])
    assert (forgotten.name, forgotten.age, forgotten.status) == (REDACTED, None, "accepted")
    assert world.counters() == counters
    assert counters.num_accepted == 3


def test_a_forgotten_subject_projects_redacted_from_its_history(world: World) -> None:
    invite = create(world)
    world.handler.handle(ForgetInvitee(id=invite), as_host())

    world.project([list(world.raw.load("Invitation", invite))])

    view = world.view(invite)
    assert (view.name, view.age) == (REDACTED, None)


def test_a_rejected_saga_command_is_logged_without_the_domain_message(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    invite = create(world)
    saga = SagaRuntime(ResponseSaga(2), world.registry, world.reads, world.store, world.handler)
    confirm = ConfirmInvite(id=invite)  # rejected: the invitation was never accepted
    outbox = {
        "type": "ConfirmInvite",
        "body": confirm.model_dump_json(),
        "command_id": "c-1",
        "correlation_id": "c-1",
        "causation_id": "c-1",
    }
    world.reads.commit([Write("ResponseSaga", "tracking", {"outbox": [outbox]}, 0)])
    tracking = world.reads.get("ResponseSaga", "tracking")
    assert tracking is not None

    with caplog.at_level(logging.DEBUG):
        saga.flush(tracking)

    assert "ConfirmInvite" in caplog.text
    assert "was rejected" in caplog.text
    assert NAME not in caplog.text
