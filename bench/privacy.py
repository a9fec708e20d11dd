"""What personal data costs a command: AES-GCM per field, key lookups and KMS calls, against the same command
without sealing, on the same moto backend."""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

Row = tuple[str, float, str]
"""(what, median ms, calls per command)."""


def run(samples: int) -> list[Row]:
    """Median ms and round trips of one command in each situation."""
    from bench.principal import as_bench
    from domain.invitation import AcceptInvite, CreateInvite
    from horizon.command_handler import CommandHandler
    from horizon.dynamodb.eventstore import DynamoDBEventStore
    from tests.moto_container import another_lambda, moto_container

    rows: list[Row] = []
    with moto_container() as (container, counter):
        kms: Counter[str] = Counter()
        container.kms.meta.events.register("before-call.kms", lambda model, **_: kms.update([model.name]))
        settings = container.settings
        plain_store = DynamoDBEventStore(container.dynamodb, settings.events_table)
        plain = CommandHandler(container.registry, plain_store)

        def measure(what: str, prepare: Callable[[], Any], act: Callable[[Any], object]) -> None:
            times, calls = [], Counter[str]()
            for _ in range(samples):
                arg = prepare()
                before = kms.copy()
                with counter.measure() as dynamo:
                    start = time.perf_counter()
                    act(arg)
                    times.append((time.perf_counter() - start) * 1000)
                calls.update(dynamo)
                calls.update({f"kms:{k}": v for k, v in (kms - before).items()})
            per = " + ".join(f"{n / samples:g} {op}" for op, n in sorted(calls.items()))
            rows.append((what, statistics.median(times), per))

        def created(handler: CommandHandler) -> Callable[[], uuid.UUID]:
            def make() -> uuid.UUID:
                invite = uuid.uuid4()
                handler.handle(CreateInvite(id=invite, name="Guest", email=f"{invite}@example.org"), as_bench())
                return invite

            return make

        def cold_container() -> tuple[uuid.UUID, CommandHandler]:
            # A sealed invitation, and the handler of another container of the function: empty caches.
            handler = CommandHandler(container.registry, another_lambda(container).event_store)
            return created(container.command_handler)(), handler

        new = lambda: uuid.uuid4()  # noqa: E731
        measure("create, no sealing", new, lambda i: plain.handle(CreateInvite(id=i, name="Guest"), as_bench()))
        measure(
            "create with e-mail: sealed, new data key, claim in the transaction",
            new,
            lambda i: container.command_handler.handle(
                CreateInvite(id=i, name="Guest", email=f"{i}@example.org"), as_bench()
            ),
        )
        measure(
            "accept, cold handler, no sealing",
            created(plain),
            lambda i: CommandHandler(container.registry, plain_store).handle(AcceptInvite(id=i), as_bench()),
        )
        measure(
            "accept, cold container (tip and key in one read, unwrap)",
            cold_container,
            lambda cold: cold[1].handle(AcceptInvite(id=cold[0]), as_bench()),
        )
        measure(
            "accept, warm container (cached key and aggregate)",
            created(container.command_handler),
            lambda i: container.command_handler.handle(AcceptInvite(id=i), as_bench()),
        )
    return rows


def cipher_microseconds(samples: int = 2_000) -> tuple[float, float]:
    """Median µs to seal and to open one personal field with a key in hand (AES-256-GCM)."""
    from horizon.memory.datakeys import MemoryDataKeys
    from horizon.privacy.cipher import FieldCipher

    cipher = FieldCipher(MemoryDataKeys())
    key = cipher.keys.key_for_writing("bench")
    seal, opened = [], []
    for _ in range(samples):
        start = time.perf_counter()
        sealed = cipher.seal_value(key, "bench", "name", "Athena Parthenos")
        seal.append((time.perf_counter() - start) * 1e6)
        start = time.perf_counter()
        cipher.open_value(key, "bench", "name", sealed)
        opened.append((time.perf_counter() - start) * 1e6)
    return statistics.median(seal), statistics.median(opened)
