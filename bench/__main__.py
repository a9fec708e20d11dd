"""`make bench` (or `make bench QUICK=1`): run every benchmark and rewrite bench/README.md."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench import coldstart, commands, cost, firstcall, privacy, roundtrips

README = Path(__file__).with_name("README.md")


def main() -> int:
    """Run the benchmarks and write the results."""
    quick = os.environ.get("QUICK", "") not in ("", "0")
    histories = [1, 300, 3_000]
    loads = [10, 3_000] if quick else [10, 10_000]
    samples = 5 if quick else 15
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} ({os.cpu_count()} cores, shared),"
        f" Python {platform.python_version()}, boto3 {version('boto3')}, moto {version('moto')}"
        f"{', QUICK' if quick else ''}. Reproduce with `make bench` (`make bench QUICK=1` for the short run)."
        " Round trips and units are counted; times are medians on moto on a noisy machine: read the ratios.",
        "",
        "## DynamoDB round trips per operation",
        "",
        "| operation | round trips | calls |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| {name} | {total} | {calls} |" for name, total, calls in roundtrips.run()]
    rows, peers = commands.latency(histories, samples)
    lines += [
        "",
        "## One-event command against history length, Horizon and the peer (median ms, same run, same moto)",
        "",
        "| events in history | Horizon cold | Horizon warm | peer default | peer cache | peer cache, no fast-forward"
        " | peer default / Horizon warm | Horizon warm / peer fastest |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (history, cold, warm), default, cached, fastest in zip(
        rows, peers["default"], peers["cache"], peers["cache, no fast-forward"], strict=True
    ):
        lines.append(
            f"| {history:,} | {cold:.1f} | {warm:.1f} | {default:.1f} | {cached:.1f} | {fastest:.1f}"
            f" | {default / warm:.1f} | {warm / fastest:.2f} |"
        )
    lines += [
        "",
        "Cold: a fresh handler (no cache) reads the tip once (GetItem) and writes once. Warm: the cached aggregate,"
        " one conditional write. The peer's fastest mode writes without any condition and loses concurrent writes.",
    ]
    loaded = commands.cold_load(loads, 3 if quick else 5)
    lines += [
        "",
        "## Cold load: head + snapshot against a full replay (median ms)",
        "",
        "| events in history | head + snapshot | full replay | head ratio to the shortest |",
        "| ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {h:,} | {a:.1f} | {b:.1f} | {a / loaded[0][1]:.2f} |" for h, a, b in loaded]
    batch = commands.projector_batch(100)
    lines += [
        "",
        f"## Projectors: {batch['commits']} commits of 100 invitations, per commit vs one batch"
        " (same run, median of 3 rounds each)",
        "",
        "| mode | records/s | guest-list writes | calls |",
        "| --- | ---: | ---: | --- |",
    ]
    for mode in ("per commit", "batch"):
        row = batch[mode]
        calls = " + ".join(f"{n} {op}" for op, n in sorted(row["calls"].items()))
        lines.append(f"| {mode} | {row['records_per_second']:.0f} | {row['guest_list_writes']} | {calls} |")
    speedup = batch["batch"]["records_per_second"] / batch["per commit"]["records_per_second"]
    lines += ["", f"Batch speed-up: {speedup:.1f} times."]
    lines += privacy_section(5 if quick else 15)
    lines += cost_section(50 if quick else 200)
    imports, first = coldstart.run(3 if quick else 7)
    base = dict(imports)["boto3"]
    lines += ["", "## Cold start: import time of each entry point (median of fresh interpreters)", ""]
    lines += _against_boto3("module | import ms", [(f"`{module}`", f"{ms:.0f}", ms) for module, ms in imports], base)
    lines += [
        "",
        "Query function in a fresh process: import {import:.0f} ms, first request {first:.1f} ms, second request"
        " {warm:.2f} ms.".format(**first),
    ]
    steps = coldstart.import_steps(3 if quick else 7)
    ours = sum(ms for what, ms in steps if not what.startswith(("pydantic", "Powertools")))
    lines += [
        "",
        "The command function's import, step by step in one fresh interpreter (each step imports what the earlier"
        " ones have not; botocore waits for the first client):",
        "",
    ]
    lines += _against_boto3("step | ms", [(what, f"{ms:.1f}", ms) for what, ms in steps], base)
    lines += [
        "",
        f"The libraries take {sum(ms for _, ms in steps) - ours:.0f} ms of it, this repository's code {ours:.0f} ms"
        ' (docs/cold-start.md, "What the libraries alone cost"). Reproduce:'
        " `python -c 'from bench import coldstart; print(coldstart.import_steps(7))'`.",
    ]
    compiled, source = coldstart.from_source(3 if quick else 7)
    lines += [
        "",
        f"Importing `{coldstart.FROM_SOURCE}` with the bytecode the bundler compiles: {compiled:.0f} ms; from"
        f" source, as an asset without bytecode runs on Lambda's read-only disk: {source:.0f} ms"
        f' ({source / compiled:.1f} times; docs/cold-start.md, "Bytecode, and botocore without boto3").',
    ]
    whole, cut = coldstart.first_client(3 if quick else 7)
    lines += [
        "",
        f"A fresh session's first client (DynamoDB's) with botocore's whole data: {whole:.0f} ms; with the data the"
        f" asset ships, the functions' services only: {cut:.0f} ms ({whole / cut:.1f} times; docs/cold-start.md,"
        ' "Only the SDK data the functions use"). Reproduce:'
        " `python -c 'from bench import coldstart; print(coldstart.first_client(7))'`.",
    ]
    answers = firstcall.run(3 if quick else 7)
    floor = answers[0].fresh
    lines += [
        "",
        "## Cold start: a fresh interpreter's first answer against a DynamoDB endpoint (median ms)",
        "",
        "Each function is imported, builds its client and answers its first event against a local moto server;"
        " the floor imports boto3, builds a client and makes one GetItem on the same endpoint. The functions run"
        " with botocore's data cut as the asset ships it; the floor and the libraries' rows with the whole of it."
        " Every row takes its turn in each round, so the floor and the functions see the same machine load."
        " Every answer does the whole of its work: the command creates a new invitation; each consumer sample is"
        " handed a commit it has not seen (a redelivered one would be skipped), and the saga's guest limit lets it"
        " confirm every guest, so each of its samples sends ConfirmInvite; the query reads a view the projector"
        " wrote."
        " As the dev stack"
        " runs them, with Lambda's active tracing and without the X-Ray SDK; the last columns turn the SDK on"
        ' (as prod without SnapStart would run them: docs/cold-start.md, "X-Ray").',
        "",
        "| what | ms | ratio to the floor | X-Ray SDK on: ms | X-Ray SDK on: ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {row.what} | {row.fresh:.0f} | {row.fresh / floor:.2f} | "
        + (f"{row.traced:.0f} | {row.traced / floor:.2f} |" if row.traced is not None else "n/a | n/a |")
        for row in answers
    ]
    lines += [
        "",
        "## Cold start with SnapStart: a restore model (median ms, same run, same floor)",
        "",
        "A fresh interpreter imports the function and runs its before-snapshot hooks (what Lambda runs when it"
        " publishes a version), then forks: the child, a stand-in for an environment restored from the snapshot,"
        " runs the after-restore hooks and answers the same first event. Lambda's own restore (bringing the"
        " snapshot's memory back, loading the runtime) is not in the model: docs/cold-start.md.",
        "",
        "| function | fresh: ratio to the floor | init + priming, at publish | restored: first answer | restored:"
        " ratio to the floor |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {row.what} | {row.fresh / floor:.2f} | {row.primed:.0f} | {row.restored:.0f} | {row.restored / floor:.2f} |"
        for row in answers
        if row.primed is not None and row.restored is not None
    ]
    README.write_text("\n".join(lines) + "\n")
    sys.stdout.write(README.read_text())
    return 0


def cost_section(guests: int) -> list[str]:
    """List-price cost per million guest-list commands by component, from one measured run (bench/cost.py)."""
    costs = cost.run(guests)
    units = sum(dollars for name, dollars in costs if not name.startswith(cost.DURATION))
    lines = [
        "",
        "## List-price cost per million guest-list commands (create, accept, the saga's answer)",
        "",
        "| component | $ per million commands |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {dollars:.2f} |" for name, dollars in costs]
    lines += [
        f"| **total** (Lambda duration included) | **{sum(d for _, d in costs):.2f}** |",
        f"| **total in request and capacity units** (issue #8's measure: no duration rows) | **{units:.2f}** |",
        "",
        f"{guests} guests on moto, one run. Each function runs in its own container, as on Lambda, and the"
        " acceptances reach a command container that no longer holds the invitation or its key (a guest answers"
        " later than the 60 s a container keeps them): each container reads and unwraps the keys it needs. Units"
        " are sized by bench/capacity.py from the items on the wire (moto does not report them); prices from"
        " /work/shared/NOTES.md and docs/deploy.md (SQS FIFO $0.50 per million requests, each 64 KB of a request"
        " billed as one; KMS $0.03 per 10,000 requests). Lambda duration is each handler's measured work priced at"
        " the memory and architecture infra/functions.py sets; it includes moto's side of every call (same"
        " process), so those rows are an upper bound. The dispatcher sends each queued consumer's queue only the"
        ' commits it reacts to, ten to a SendMessageBatch request (docs/deploy.md, "Fan-out").'
        " docs/event-store.md explains the design choices behind each line. Reproduce this section alone:"
        f" `python -c 'from bench import cost; print(cost.run({guests}))'`.",
    ]
    return lines


def _against_boto3(columns: str, rows: list[tuple[str, str, float]], base: float) -> list[str]:
    """A table of (name, shown ms, ms) rows with a last column: each row's ms as a ratio to `import boto3`'s."""
    lines = [f"| {columns} | ratio to `import boto3` |", "| --- | ---: | ---: |"]
    return lines + [f"| {name} | {shown} | {ms / base:.2f} |" for name, shown, ms in rows]


def privacy_section(samples: int) -> list[str]:
    """Personal data's cost per command: sealing, key lookups, KMS (docs/privacy.md)."""
    seal_us, open_us = privacy.cipher_microseconds()
    lines = [
        "",
        "## Personal data: sealing, data keys and claims per command (median ms, same moto)",
        "",
        "| command | ms | calls per command |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| {what} | {ms:.1f} | {calls} |" for what, ms, calls in privacy.run(samples)]
    lines += [
        "",
        f"AES-256-GCM with the key in hand: {seal_us:.0f} µs to seal a field, {open_us:.0f} µs to open one. A warm"
        " container's key cache (60 s) leaves a command one write; a cold one reads its tip and data key (and the"
        " month's branch key, when it holds none) in one BatchGetItem and unwraps the data key locally, under the"
        ' branch key: one KMS Decrypt per container per 15 min, none per subject (docs/privacy.md, "Key'
        ' hierarchy"). Claiming and releasing commits are transactions. Reproduce:'
        " `python -c 'from bench import privacy; print(privacy.run(15))'`.",
    ]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
