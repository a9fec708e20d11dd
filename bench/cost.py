"""List-price cost per million guest-list commands, from what the whole pipeline used (bench/pipeline.py).

Capacity units are sized from the items on the wire (bench/capacity.py); fan-out requests are counted from the
SendMessageBatch requests the dispatcher made (only the commits some queued consumer reacts to, each to the queues
that react to it) and the messages each queue received; Lambda duration is the handler seconds measured in the
same run, priced at the memory size and architecture infra/functions.py configures. The handler seconds include
moto's side of every call (its DynamoDB and SQS run in the same process), so the duration rows are an upper bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench import pipeline

HTTP_PER_MILLION = 1.00
LAMBDA_REQUEST_PER_MILLION = 0.20
LAMBDA_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
"""Lambda duration's list price per GB-second by architecture (us-east-1, first tier)."""
SQS_FIFO_PER_MILLION = 0.50
"""Per request, each 64 KB of its payload a request of its own: a SendMessageBatch of ten small messages is one
request; receive and delete are one each per batch of messages."""
SQS_BILLED_CHUNK = 65_536
DURATION = "Lambda duration"
"""How the rows priced from measured handler time begin: the rest are request and capacity units."""
KMS_PER_MILLION = 3.00
"""KMS's list price per request ($0.03 per 10,000): GenerateDataKey for a new subject, Decrypt to unwrap one."""
WRITE_PER_MILLION = 0.625
READ_PER_MILLION = 0.125


def run(guests: int, *, filtered: bool = True) -> list[tuple[str, float]]:
    """Rows of (component, dollars per million commands)."""
    from bench import pipeline

    return rows(pipeline.run(guests, filtered=filtered))


def rows(measured: pipeline.Measured) -> list[tuple[str, float]]:
    """The cost of one measured run, by component, per million commands."""
    from infra.functions import ARCHITECTURE, SPECS
    from infra.streams import QUEUE_BATCH_SIZE

    per_million = 1e6 / measured.commands
    sent = len(measured.message_bytes)
    message_bytes = sum(measured.message_bytes) / max(1, sent)
    result = [("HTTP API (2 of 3 commands)", HTTP_PER_MILLION * 2 / 3)]
    requests = sum(measured.invocations.values())
    result.append(
        (
            "Lambda requests (commands, stream batches of 100, queue batches of 10)",
            LAMBDA_REQUEST_PER_MILLION * requests / 1e6 * per_million,
        )
    )
    price = LAMBDA_GB_SECOND[ARCHITECTURE.name]
    for function, seconds in measured.seconds.items():
        memory = SPECS[function].memory_mb
        milliseconds = seconds * 1000 / max(1, measured.invocations[function])
        result.append(
            (
                f"{DURATION}: {function} at {memory} MB {ARCHITECTURE.name}, {milliseconds:.1f} ms per invocation",
                seconds * memory / 1024 * price * per_million,
            )
        )
    billed = sum(-(-max(1, size) // SQS_BILLED_CHUNK) for size in measured.sends)
    result.append(
        (
            f"fan-out: SQS FIFO SendMessageBatch, {billed} billed requests for {sent} messages of "
            f"{message_bytes:.0f} B",
            billed * SQS_FIFO_PER_MILLION / 1e6 * per_million,
        )
    )
    for name, delivered in measured.delivered.items():
        share = delivered / max(1, measured.commits)
        # Lambda's mapping receives and deletes a batch of up to ten messages per request each.
        queue = delivered * SQS_FIFO_PER_MILLION * 2 / QUEUE_BATCH_SIZE / 1e6
        result.append(
            (f"fan-out: SQS FIFO receives and deletes, {name} queue ({share:.0%} of commits)", queue * per_million)
        )
    for name, requests in measured.kms.items():
        if requests:
            result.append(
                (
                    f"KMS requests, {name.split(' ')[0]}: {requests / measured.commands:.2f} per command",
                    KMS_PER_MILLION * requests / measured.commands,
                )
            )
    for name, units in measured.units.items():
        if not units["WRU"] and not units["RRU"]:
            continue
        dollars = (units["WRU"] * WRITE_PER_MILLION + units["RRU"] * READ_PER_MILLION) / 1e6
        wru, rru = units["WRU"] / measured.commands, units["RRU"] / measured.commands
        result.append((f"{name}: {wru:.2f} WRU + {rru:.2f} RRU", dollars * per_million))
    return result
