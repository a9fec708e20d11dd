"""read_at_least: wait for a read model to reach a version, bounded, with no fixed sleeps."""

from __future__ import annotations

from collections.abc import Sequence

from horizon.consistency import read_at_least
from horizon.memory import MemoryReadStore
from horizon.readstore import Document, DocumentKey, Write

from .fakes import FakeClock


class ProjectingReadStore(MemoryReadStore):
    """A read store whose projection catches up by one version on every read."""

    def get_many(self, keys: Sequence[DocumentKey]) -> dict[DocumentKey, Document]:
        found = super().get_many(keys)
        current = found.get(("views", "a"))
        version = int(current.body["version"]) if current else 0
        self.commit([Write("views", "a", {"version": version + 1}, current.revision if current else 0)])
        return found


def version(document: Document) -> int:
    return int(document.body["version"])


def test_a_view_already_at_the_version_is_returned_without_waiting() -> None:
    reads, clock = MemoryReadStore(), FakeClock()
    reads.commit([Write("views", "a", {"version": 3}, 0)])
    found = read_at_least(reads, "views", "a", 2, version_of=version, clock=clock, sleep=clock.sleep)
    assert found is not None
    assert version(found) == 3
    assert clock.sleeps == []


def test_the_wait_ends_as_soon_as_the_projection_catches_up() -> None:
    reads, clock = ProjectingReadStore(), FakeClock()
    found = read_at_least(reads, "views", "a", 3, version_of=version, clock=clock, sleep=clock.sleep)
    assert found is not None
    assert version(found) == 3
    assert len(clock.sleeps) == 3  # None, v1, v2 were too early; v3 was read on the fourth try


def test_at_the_deadline_the_view_is_returned_as_it_is() -> None:
    reads, clock = MemoryReadStore(), FakeClock()
    reads.commit([Write("views", "a", {"version": 1}, 0)])
    found = read_at_least(reads, "views", "a", 5, version_of=version, timeout=1.0, clock=clock, sleep=clock.sleep)
    assert found is not None
    assert version(found) == 1
    assert sum(clock.sleeps) == 1.0
    assert max(clock.sleeps) <= 0.25


def test_a_view_that_never_appears_is_none_at_the_deadline() -> None:
    clock = FakeClock()
    found = read_at_least(
        MemoryReadStore(), "views", "a", 1, version_of=version, timeout=0.5, clock=clock, sleep=clock.sleep
    )
    assert found is None
