"""The peer: `eventsourcing` 9.3.5 with `eventsourcing-dynamodb` 0.1.0 on the same moto backend, same process.

Bench-only (requirements-bench.txt). Three modes, as in issue 8: its default (every command replays the whole
history), its aggregate cache, and its cache without the fast-forward read (one write, no read, no condition:
it loses concurrent writes, so it is a speed floor, not a design we could ship).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

TABLE = "peer-events"
MODES = {
    "default": {},
    "cache": {"AGGREGATE_CACHE_MAXSIZE": "100"},
    "cache, no fast-forward": {"AGGREGATE_CACHE_MAXSIZE": "100", "AGGREGATE_CACHE_FASTFORWARD": "n"},
}


def latency(histories: Sequence[int], samples: int, client: Any) -> dict[str, list[float]]:
    """Median ms per one-event command for each mode and history, on the moto backend `client` talks to."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Ticker(Aggregate):
        @event("Created")
        def __init__(self) -> None:
            self.count = 0

        @event("Ticked")
        def tick(self) -> None:
            self.count += 1

    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "originator_id", "KeyType": "HASH"},
            {"AttributeName": "originator_version", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "originator_id", "AttributeType": "S"},
            {"AttributeName": "originator_version", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    base = {"PERSISTENCE_MODULE": "eventsourcing_dynamodb", "DYNAMO_TABLE": TABLE}
    builder = Application(env={**base, **MODES["cache, no fast-forward"]})
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    for history in histories:
        ticker = Ticker()
        for _ in range(history - 1):
            ticker.tick()
        builder.save(ticker)
        for mode, env in MODES.items():
            app = Application(env={**base, **env})
            app.repository.get(ticker.id)  # warms its cache, as a warm Lambda would have
            times = []
            for _ in range(samples):
                start = time.perf_counter()
                current: Any = app.repository.get(ticker.id)
                current.tick()
                app.save(current)
                times.append((time.perf_counter() - start) * 1000)
            results[mode].append(statistics.median(times))
    return results
