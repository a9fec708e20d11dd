"""Who the benchmarks send their commands as: a client with every role of the guest list."""

from __future__ import annotations

from horizon.command_handler import CommandContext


def as_bench() -> CommandContext:
    """A fresh command from a host who is also a guest (the toy Ticker's command is open to hosts too)."""
    from domain.invitation import GUESTS, HOSTS
    from horizon.authorization import Principal

    return CommandContext(principal=Principal.client("bench", [HOSTS, GUESTS]))
