"""`make bench`: run every benchmark and rewrite bench/RESULTS.md."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import coldstart, latency, roundtrips

RESULTS = Path(__file__).with_name("RESULTS.md")


def main() -> int:
    """Run the benchmarks and write the results table."""
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python {platform.python_version()},"
        f" {platform.system()}; `make bench` regenerates this file. Round trips are counted and exact;"
        " times are medians on a noisy 2-core machine and on moto, so read the ratios, not the milliseconds.",
        "",
        "## DynamoDB round trips per operation",
        "",
        "| operation | round trips | calls |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| {name} | {total} | {calls} |" for name, total, calls in roundtrips.run()]
    imports, first = coldstart.run()
    base = dict(imports)["boto3"]
    lines += [
        "",
        "## Cold start: import time of each entry point (median of fresh interpreters)",
        "",
        "| module | import ms | ratio to `import boto3` |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| `{module}` | {ms:.0f} | {ms / base:.2f} |" for module, ms in imports]
    lines += [
        "",
        "Query function in a fresh process: import {import:.0f} ms, first request (builds the resolver) "
        "{first:.1f} ms, second request {warm:.2f} ms.".format(**first),
        "",
        "## Command cost against history length (load + append one event, moto)",
        "",
        "| events in history | median ms | ratio to 1 event |",
        "| ---: | ---: | ---: |",
    ]
    lines += [f"| {history} | {ms:.1f} | {ratio:.1f} |" for history, ms, ratio in latency.run()]
    lines += [
        "",
        "A command replays the aggregate's whole history (one paginated Query), so its cost grows linearly with"
        " the history; snapshots or a cached tip (docs/event-store.md) are what flattens this curve. The API"
        " functions import boto3 on their first DynamoDB call, not at import, so the figures above exclude it.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    sys.stdout.write(RESULTS.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
