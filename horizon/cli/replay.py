"""`horizon republish`: run one named projector or saga again over a slice of history, from the events table.

Idempotent: the consumer's tracking positions decide what is new, so running it twice (or while the stream
runs) offers the same events once in effect. Exit code 5 when some aggregate failed (listed on stderr).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import click

from horizon.cli.target import Connection

FAILED = 5


@click.command()
@click.argument("handler")
@click.option("--type", "aggregate_type", help="Only aggregates of this type.")
@click.option("--id", "aggregate_id", type=click.UUID, help="Only this aggregate (needs --type).")
@click.option("--from-version", type=click.IntRange(min=1), default=1, show_default=True, help="First version.")
@click.option("--since", type=datetime.fromisoformat, help="Only aggregates changed at or after this RFC 3339 time.")
@click.option("--segments", type=click.IntRange(min=1), default=1, show_default=True, help="Scan segments to run.")
@click.option("--guest-limit", type=click.IntRange(min=0), default=2, show_default=True, help="Domain setting.")
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
) -> None:
    """Offer HANDLER (a projector or saga name) every event it has not applied yet, within the slice."""
    from horizon.catchup import CatchUpReport, Slice, catch_up

    if aggregate_id is not None and aggregate_type is None:
        raise click.UsageError("--id needs --type")
    if since is not None and since.tzinfo is None:
        raise click.BadParameter("the time needs an offset, e.g. 2026-11-27T10:00:00Z", param_hint="--since")
    consumers = connection.consumers(guest_limit)
    if handler not in consumers:
        raise click.BadParameter(f"{handler!r} is none of {', '.join(sorted(consumers))}", param_hint="HANDLER")
    where = Slice(aggregate_type, aggregate_id, from_version, since)
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
