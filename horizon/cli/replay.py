"""`horizon republish`, `dead-letters` and `redrive`: consumers catch up from the events table, on demand.

Idempotent: the consumer's tracking positions decide what is new, so running any of them twice (or while the
stream runs) offers the same events once in effect. Exit code 5 when some aggregate failed (listed on stderr).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import click

from horizon.cli.target import Connection
from horizon.generations import POINTER_TTL_SECONDS

FAILED = 5
FAILURE_QUEUE_OUTPUT = "FailureQueueUrl"

wait_option = click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="With --stack: follow the execution to its end, or print its ARN and return.",
)


def _on_aws(connection: Connection, document: dict[str, Any], wait: bool) -> None:
    """Start the stack's catch-up state machine and follow it (horizon/cli/executions.py); exit 5 unless it
    succeeded."""
    from horizon.cli.executions import STATE_MACHINE_OUTPUT, StepFunctionsExecutions, run

    executions = StepFunctionsExecutions(connection.client("stepfunctions"), connection.output(STATE_MACHINE_OUTPUT))
    if not run(executions, document, wait=wait, out=click.echo, err=lambda line: click.echo(line, err=True)):
        raise click.exceptions.Exit(FAILED)


@click.command()
@click.argument("handler")
@click.option("--type", "aggregate_type", help="Only aggregates of this type.")
@click.option("--id", "aggregate_id", type=click.UUID, help="Only this aggregate (needs --type).")
@click.option("--from-version", type=click.IntRange(min=1), default=1, show_default=True, help="First version.")
@click.option("--since", type=datetime.fromisoformat, help="Only aggregates changed at or after this RFC 3339 time.")
@click.option("--segments", type=click.IntRange(min=1), default=1, show_default=True, help="Scan segments to run.")
@click.option("--guest-limit", type=click.IntRange(min=0), default=2, show_default=True, help="Domain setting.")
@wait_option
@click.pass_obj
def republish(
    connection: Connection,
    handler: str,
    aggregate_type: str | None,
    aggregate_id: UUID | None,
    from_version: int,
    since: datetime | None,
    segments: int,
    guest_limit: int,
    wait: bool,
) -> None:
    """Offer HANDLER (a projector or saga name) every event it has not applied yet, within the slice.

    With --stack, the stack's catch-up state machine runs the segments (one Lambda each); otherwise in-process.
    """
    from horizon.catchup import CatchUpReport, Slice, catch_up
    from horizon.catchup_actions import REPUBLISH, execution_input

    if aggregate_id is not None and aggregate_type is None:
        raise click.UsageError("--id needs --type")
    if since is not None and since.tzinfo is None:
        raise click.BadParameter("the time needs an offset, e.g. 2026-11-27T10:00:00Z", param_hint="--since")
    consumers = connection.consumers(guest_limit)
    if handler not in consumers:
        raise click.BadParameter(f"{handler!r} is none of {', '.join(sorted(consumers))}", param_hint="HANDLER")
    where = Slice(aggregate_type, aggregate_id, from_version, since)
    if connection.target.stack:
        _on_aws(connection, execution_input(REPUBLISH, handler, segments, where=where), wait)
        return
    total = CatchUpReport()
    for segment in range(segments):
        report = catch_up(consumers[handler], segment, segments, where)
        total.aggregates += report.aggregates
        total.events += report.events
        total.failed |= report.failed
    click.echo(f"{handler}: {total.aggregates} aggregates, {total.events} events offered, {len(total.failed)} failed")
    for stream, error in sorted(total.failed.items()):
        click.echo(f"failed {stream}: {error}", err=True)
    if total.failed:
        raise click.exceptions.Exit(FAILED)


queue_option = click.option(
    "--queue",
    "queue_url",
    help="One queue's URL (default: the stack's failure and dead-letter queues, or the local ones).",
)


def _queues(connection: Connection, queue_url: str | None) -> tuple[Any, list[tuple[str, str | None]]]:
    """The SQS client, and each queue to read with the consumer it belongs to (None: the stream readers' queue)."""
    sqs = connection.client("sqs")
    if queue_url:
        return sqs, [(queue_url, None)]
    if connection.target.stack:
        from horizon.redrive import DEAD_LETTERS_OUTPUT_SUFFIX

        outputs = connection.outputs()
        queued = [
            (url, key.removesuffix(DEAD_LETTERS_OUTPUT_SUFFIX))
            for key, url in sorted(outputs.items())
            if key.endswith(DEAD_LETTERS_OUTPUT_SUFFIX)
        ]
        return sqs, [(connection.output(FAILURE_QUEUE_OUTPUT), None), *queued]
    from horizon.local.deadletters import DEAD_LETTER_QUEUE
    from horizon.local.fanout import dead_letter_queues

    local = [(url, consumer) for consumer, url in dead_letter_queues(sqs).items()]
    return sqs, [(str(sqs.get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]), None), *local]


def _letters(connection: Connection, queue_url: str | None) -> tuple[Any, list[tuple[str, Any]]]:
    """The SQS client and every letter of every queue, with the URL of the queue that holds it."""
    from horizon.redrive import parse_body, read_letter

    sqs, queues = _queues(connection, queue_url)
    streams = connection.client("dynamodbstreams")
    found: list[tuple[str, Any]] = []
    for url, consumer in queues:
        seen: set[str] = set()
        while True:  # VisibilityTimeout 0: listing hides nothing from the consumers of the queue
            page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            fresh = [m for m in page.get("Messages", []) if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                letter = read_letter(message["ReceiptHandle"], parse_body(message["Body"]), streams, consumer)
                found.append((url, letter))
    return sqs, found


@click.command(name="dead-letters")
@queue_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per letter.")
@click.pass_obj
def dead_letters(connection: Connection, queue_url: str | None, as_json: bool) -> None:
    """What the consumers gave up on: consumer, aggregate, versions and the error, one line each."""
    import json

    for _, letter in _letters(connection, queue_url)[1]:
        commits = [
            {"aggregate_type": c.aggregate_type, "aggregate_id": str(c.aggregate_id), "first": c.first, "last": c.last}
            for c in letter.commits
        ]
        if as_json:
            document = {"consumer": letter.function, "commits": commits, "error": letter.error}
            click.echo(json.dumps(document | {"expired": letter.expired}))
            continue
        where = ", ".join(f"{c['aggregate_type']} {c['aggregate_id']} v{c['first']}-{c['last']}" for c in commits)
        click.echo(
            f"{letter.function}: {where or 'records left the stream (redrive catches up everything)'} · {letter.error}"
        )


@click.command()
@queue_option
@click.option("--guest-limit", type=click.IntRange(min=0), default=2, show_default=True, help="Domain setting.")
@click.pass_obj
def redrive(connection: Connection, queue_url: str | None, guest_limit: int) -> None:
    """Process every dead letter again from the events table; remove each one that now succeeds."""
    from horizon.redrive import redrive as redrive_letter

    sqs, letters = _letters(connection, queue_url)
    consumers = connection.consumers(guest_limit)
    healed = 0
    still: dict[str, str] = {}
    for url, letter in letters:
        failed = redrive_letter(letter, consumers)
        if failed:
            still |= failed
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt)
        healed += 1
    click.echo(f"redrive: {healed} healed, {len(letters) - healed} kept")
    for stream, error in sorted(still.items()):
        click.echo(f"failed {stream}: {error}", err=True)
    if still:
        raise click.exceptions.Exit(FAILED)


@click.command()
@click.argument("projection")
@click.option("--segments", type=click.IntRange(min=1), default=1, show_default=True, help="Scan segments to run.")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds before the old generation goes.",
)
@click.option(
    "--settle",
    # Shorter than the stream's pointer cache, the last pass could run before a runtime stops writing the old
    # generation, and what it wrote there would be purged with it: lost to readers until the aggregate commits.
    type=click.FloatRange(min=POINTER_TTL_SECONDS),
    default=POINTER_TTL_SECONDS,
    show_default=True,
    help="Seconds the stream may still write the old generation (its pointer cache; no less).",
)
@click.option("--guest-limit", type=click.IntRange(min=0), default=2, show_default=True, help="Domain setting.")
@wait_option
@click.pass_obj
def rebuild(
    connection: Connection,
    projection: str,
    segments: int,
    grace: float,
    settle: float,
    guest_limit: int,
    wait: bool,
) -> None:
    """Build PROJECTION's next generation from the events table, switch readers to it, delete the old one.

    With --stack, the stack's catch-up state machine runs every step; otherwise they run in-process.
    """
    from horizon.catchup_actions import REBUILD, SagaNotRebuilt, execution_input
    from horizon.consumers import ProjectorRuntime
    from horizon.generations import rebuild as rebuild_generation

    consumers = connection.consumers(guest_limit)
    runtime = consumers.get(projection)
    if runtime is None:
        raise click.BadParameter(f"{projection!r} is none of {', '.join(sorted(consumers))}", param_hint="PROJECTION")
    if not isinstance(runtime, ProjectorRuntime):
        raise click.UsageError(str(SagaNotRebuilt(projection)))
    if connection.target.stack:
        document = execution_input(REBUILD, projection, segments, settle=settle, grace=grace)
        _on_aws(connection, document, wait)
        return
    generation = rebuild_generation(
        runtime.for_generation, connection.reads, projection, segments=segments, grace=grace, settle=settle
    )
    click.echo(f"{projection}: generation {generation} is live")
