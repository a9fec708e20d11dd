"""Command contexts for tests: each call is a new command (its own command id) sent by a given principal."""

from __future__ import annotations

from uuid import uuid4

from horizon.authorization import Principal
from horizon.command_handler import CommandContext

HOST = Principal.client("host-1", ["hosts"])
GUEST = Principal.client("guest-1", ["guests"])
NOBODY = Principal.client("nobody-1", [])


def as_host(**ids: str) -> CommandContext:
    """A fresh command sent by a host."""
    return CommandContext(principal=HOST, **ids)


def as_guest(**ids: str) -> CommandContext:
    """A fresh command sent by a guest."""
    return CommandContext(principal=GUEST, **ids)


def as_saga(name: str = "ResponseSaga", **ids: str) -> CommandContext:
    """A fresh command dispatched by a saga because of some event."""
    return CommandContext(principal=Principal.of_saga(name, str(uuid4())), **ids)
