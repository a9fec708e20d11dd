"""Runtimes that feed commits to projectors and sagas exactly once in effect (the contract: `tracked`)."""

from __future__ import annotations

from horizon.consumers.projector import ProjectorRuntime
from horizon.consumers.saga import SagaRuntime
from horizon.consumers.tracked import TrackedConsumer

__all__ = ["ProjectorRuntime", "SagaRuntime", "TrackedConsumer"]
