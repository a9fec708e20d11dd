"""The guest-list domain wired to memory stores, for unit tests."""

from __future__ import annotations

import pytest

from domain import build_registry
from horizon.command_handler import CommandHandler
from horizon.registry import Registry

from .fakes import RecordingEventStore


@pytest.fixture
def registry() -> Registry:
    return build_registry()


@pytest.fixture
def events() -> RecordingEventStore:
    return RecordingEventStore()


@pytest.fixture
def sleeps() -> list[float]:
    """Every backoff the handler asked for; the handler never really sleeps in unit tests."""
    return []


@pytest.fixture
def handler(registry: Registry, events: RecordingEventStore, sleeps: list[float]) -> CommandHandler:
    return CommandHandler(registry, events, sleep=sleeps.append)
