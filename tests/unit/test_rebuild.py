"""Rebuild in generations: readers never see a half-built model, the stream keeps flowing, sagas are refused."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest

from domain.guest_list import GUEST_LIST_KEY, GuestListProjector, InvitationProjector
from domain.invitation import AcceptInvite, CreateInvite
from horizon import generations
from horizon.command_handler import CommandHandler
from horizon.consumers import ProjectorRuntime
from horizon.generations import GENERATIONS, live_collection, live_generation, read_live, rebuild
from horizon.memory import MemoryReadStore
from horizon.readstore import ReadStore
from horizon.registry import Registry
from tests.principals import as_host

from .fakes import ReadRecordingStore, RecordingEventStore


def accept(handler: CommandHandler, count: int) -> None:
    for _ in range(count):
        invite_id = uuid4()
        handler.handle(CreateInvite(id=invite_id, name="Guest"), as_host())
        handler.handle(AcceptInvite(id=invite_id), as_host())


def guests(reads: ReadStore) -> int:
    document = reads.get(live_collection(reads, GuestListProjector.name), GUEST_LIST_KEY)
    return 0 if document is None else int(document.body["num_guests"])


def test_readers_querying_throughout_a_rebuild_never_see_a_half_built_guest_list(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    # GIVEN 60 guests projected by the stream into the live generation
    accept(handler, 60)
    reads = MemoryReadStore()
    live = ProjectorRuntime(GuestListProjector(2), registry, reads, events)
    live.process_batch(events.commits)
    seen: list[int] = []
    done = threading.Event()

    def query() -> None:
        while not done.is_set():
            seen.append(guests(reads))

    reader = threading.Thread(target=query)
    reader.start()
    # WHEN the guest list is rebuilt while readers query and the stream delivers 20 more guests
    delivered = len(events.commits)

    def between(_: float) -> None:
        if len(events.commits) == delivered:  # once: the stream delivers right after the switch, its pointer stale
            accept(handler, 20)
            live.process_batch(events.commits[delivered:])

    try:
        generation = rebuild(
            lambda n: ProjectorRuntime(GuestListProjector(2), registry, reads, events, generation=n),
            reads,
            GuestListProjector.name,
            segments=3,
            sleep=between,
        )
    finally:
        done.set()
        reader.join()
    # THEN no reader ever saw fewer guests than before, and the new generation holds every guest
    assert generation == 1
    assert seen
    assert min(seen) == 60
    assert seen == sorted(seen)
    assert guests(reads) == 80
    assert live_generation(reads, GuestListProjector.name) == 1
    assert reads.list(GuestListProjector.name, 10).items == []  # the old generation is gone
    assert reads.list(f"_tracking.{GuestListProjector.name}", 10).items == []


def test_a_rebuild_after_a_fix_recomputes_views_and_a_second_rebuild_moves_on(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore
) -> None:
    accept(handler, 3)
    reads = MemoryReadStore()
    ProjectorRuntime(InvitationProjector(), registry, reads, events).process_batch(events.commits)

    def runtime(n: int) -> ProjectorRuntime:
        return ProjectorRuntime(InvitationProjector(), registry, reads, events, generation=n)

    assert rebuild(runtime, reads, InvitationProjector.name, sleep=lambda _: None) == 1
    assert rebuild(runtime, reads, InvitationProjector.name, sleep=lambda _: None) == 2

    page = reads.list(live_collection(reads, InvitationProjector.name), 10)
    assert [(d.body["status"], d.position) for d in page.items] == [("accepted", 2)] * 3
    assert [d.key for d in reads.list(GENERATIONS, 10).items] == [InvitationProjector.name]
    assert reads.list(f"{InvitationProjector.name}@1", 10).items == []


def test_a_reader_gets_the_live_document_with_its_pointer_in_one_request_and_follows_a_switch(
    registry: Registry, handler: CommandHandler, events: RecordingEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generations, "_LAST_LIVE", {})  # this process has read no pointer yet
    accept(handler, 3)
    reads = ReadRecordingStore()
    ProjectorRuntime(GuestListProjector(2), registry, reads, events).process_batch(events.commits)

    def live_guests() -> tuple[int, int]:
        """The guests the live guest list counts, and the read requests it took."""
        before = len(reads.requests)
        document = read_live(reads, GuestListProjector.name, GUEST_LIST_KEY)
        assert document is not None
        return int(document.body["num_guests"]), len(reads.requests) - before

    assert live_guests() == (3, 1)
    # WHEN a rebuild switches the pointer to generation 1 and deletes generation 0
    runtime = lambda n: ProjectorRuntime(GuestListProjector(2), registry, reads, events, generation=n)  # noqa: E731
    assert rebuild(runtime, reads, GuestListProjector.name, sleep=lambda _: None) == 1
    # THEN the next read finds the pointer moved and reads the new generation, and those after read it at once
    assert live_guests() == (3, 2)
    assert live_guests() == (3, 1)
