"""Per-command latency against history length (cold and warm), cold loads, and the projector batch path.

Times are moto's on this machine: compare ratios measured in the same run, not milliseconds.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from bench.principal import as_bench
from horizon.aggregate import Aggregate
from horizon.authorization import public
from horizon.commands import Command
from horizon.events import EventData


class Start(Command):
    """Open a ticker."""


class Tick(Command):
    """Count one more."""

    audience = public("hosts")


class Started(EventData):
    pass


class Ticked(EventData):
    n: int


class TickerState(BaseModel):
    """How far a ticker counted."""

    count: int = 0


class Ticker(Aggregate):
    """A bench aggregate whose every command appends one event."""

    state_model = TickerState
    state: TickerState

    def handle(self, command: Command) -> Sequence[EventData]:
        return [Started()] if isinstance(command, Start) else [Ticked(n=self.state.count + 1)]

    def apply(self, event: EventData) -> None:
        if isinstance(event, Ticked):
            self.state.count = event.n


def _seed(store: Any, history: int) -> uuid.UUID:
    """A ticker with `history` events, written in commits of 99 (so mostly calved) with its snapshot on the tip."""
    import json

    from horizon.events import Event, Metadata
    from horizon.eventstore import Snapshot

    ticker = uuid.uuid4()
    meta = Metadata(correlation_id="seed", causation_id="seed", command="Tick")

    def event(version: int) -> Event:
        data = {} if version == 1 else {"n": version - 1}
        kind = "Started" if version == 1 else "Ticked"
        return Event(aggregate_type="Ticker", aggregate_id=ticker, version=version, type=kind, data=data, metadata=meta)

    for start in range(1, history + 1, 99):
        last = min(start + 98, history)
        state = Snapshot(last, Ticker.state_version, json.dumps({"count": last - 1}))
        store.append([event(v) for v in range(start, last + 1)], start - 1, state)
    return ticker


def _registry() -> Any:
    from horizon.registry import Registry

    return Registry().register(Ticker, creates=[Start], commands=[Tick], events=[Started, Ticked])


def latency(histories: Sequence[int], samples: int) -> tuple[list[tuple[int, float, float]], dict[str, list[float]]]:
    """Rows of (history, median ms of a cold command, median ms of a warm command), and the peer's medians
    per mode, measured in the same process on the same moto backend."""
    from bench import peer
    from horizon.aggregate_cache import AggregateCache
    from horizon.command_handler import CommandHandler
    from tests.moto_container import moto_container

    registry = _registry()
    rows = []
    with moto_container() as (container, _):
        store = container.event_store
        warm = CommandHandler(registry, store, cache=AggregateCache())
        for history in histories:
            ticker = _seed(store, history)
            cold_ms = []
            for _ in range(samples):
                handler = CommandHandler(registry, store)  # a cold container: no cache
                start = time.perf_counter()
                handler.handle(Tick(id=ticker), as_bench())
                cold_ms.append((time.perf_counter() - start) * 1000)
            warm.handle(Tick(id=ticker), as_bench())
            warm_ms = []
            for _ in range(samples):
                start = time.perf_counter()
                warm.handle(Tick(id=ticker), as_bench())
                warm_ms.append((time.perf_counter() - start) * 1000)
            rows.append((history, statistics.median(cold_ms), statistics.median(warm_ms)))
        peers = peer.latency(histories, samples, container.dynamodb)
    return rows, peers


def cold_load(histories: Sequence[int], samples: int) -> list[tuple[int, float, float]]:
    """Rows of (history, median ms to load the head and rebuild, median ms of a full replay with `load`)."""
    from horizon.command_handler import CommandHandler
    from tests.moto_container import moto_container

    registry = _registry()
    rows = []
    with moto_container() as (container, _):
        store = container.event_store
        for history in histories:
            ticker = _seed(store, history)
            head_ms, replay_ms = [], []
            for _ in range(samples):
                handler = CommandHandler(registry, store)
                start = time.perf_counter()
                handler.rebuild("Ticker", ticker, store.load_head("Ticker", ticker))
                head_ms.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                handler.load("Ticker", ticker)
                replay_ms.append((time.perf_counter() - start) * 1000)
            rows.append((history, statistics.median(head_ms), statistics.median(replay_ms)))
    return rows


def projector_batch(guests: int, rounds: int = 3) -> dict[str, Any]:
    """Project `guests` creations and acceptances one commit at a time, then as one batch, on fresh tables;
    `rounds` times each, alternated, reporting the median (one round is at the mercy of a noisy machine)."""
    from domain.invitation import AcceptInvite, CreateInvite
    from horizon.dynamodb.readstore import DynamoDBReadStore
    from horizon.dynamodb.tables import create_tables
    from tests.moto_container import moto_container

    result: dict[str, Any] = {}
    with moto_container() as (container, counter):
        commits = []
        for _ in range(guests):
            invite = uuid.uuid4()
            commits.append(container.command_handler.handle(CreateInvite(id=invite, name="Guest"), as_bench()).events)
            commits.append(container.command_handler.handle(AcceptInvite(id=invite), as_bench()).events)
        timings: dict[str, list[float]] = {"per commit": [], "batch": []}
        for round_ in range(rounds):
            for mode, taken in timings.items():
                table = f"bench-read-{mode.replace(' ', '-')}-{round_}"
                create_tables(container.dynamodb, f"unused-{table}", table)
                reads = DynamoDBReadStore(container.dynamodb, table)
                runtimes = [
                    type(r)(r.projector, container.registry, reads, container.event_store) for r in container.projectors
                ]
                with counter.measure() as calls:
                    start = time.perf_counter()
                    for runtime in runtimes:
                        if mode == "batch":
                            runtime.process_batch(commits)
                        else:
                            for commit in commits:
                                runtime.process(commit)
                    taken.append(time.perf_counter() - start)
                document = reads.get("GuestList", "guestlist")
                result[mode] = {
                    "records_per_second": len(commits) / statistics.median(taken),
                    "calls": dict(calls),
                    "guest_list_writes": document.revision if document else 0,
                }
    result["commits"] = len(commits)
    return result
