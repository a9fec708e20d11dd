"""Latency ratios on moto: how a command's cost grows with the aggregate's history.

Absolute milliseconds are moto's on this machine, not DynamoDB's; the ratio to the 1-event history is the
figure to compare, measured in one run.
"""

from __future__ import annotations

import statistics
import time
import uuid

from bench.moto_env import moto_container

HISTORIES = [1, 100, 300]
SAMPLES = 15


def run() -> list[tuple[int, float, float]]:
    """Rows of (history length, median ms for load + append of one event, ratio to the shortest history)."""
    from horizon.events import Event, Metadata

    metadata = Metadata(correlation_id="bench", causation_id="bench", command="Bench")
    rows: list[tuple[int, float]] = []
    with moto_container() as (container, _):
        store = container.event_store
        for history in HISTORIES:
            aggregate = uuid.uuid4()

            def event(version: int, aggregate: uuid.UUID = aggregate) -> Event:
                return Event(
                    aggregate_type="Bench",
                    aggregate_id=aggregate,
                    version=version,
                    type="Ticked",
                    data={"n": version},
                    metadata=metadata,
                )

            for version in range(1, history + 1):
                store.append([event(version)], version - 1)
            samples = []
            for _ in range(SAMPLES):
                start = time.perf_counter()
                version = len(store.load("Bench", aggregate))
                store.append([event(version + 1)], version)
                samples.append((time.perf_counter() - start) * 1000)
            rows.append((history, statistics.median(samples)))
    base = rows[0][1]
    return [(history, ms, ms / base) for history, ms in rows]
