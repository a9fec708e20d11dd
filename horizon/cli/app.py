"""The click commands of `horizon`. Exit codes scripts can rely on:

0 done (and Ctrl-C during `tail`) · 1 not found (aggregate type, aggregate, version, time) · 2 bad usage
· 3 unreadable history (stored events today's code cannot read) · 4 the store cannot be reached or read.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any
from uuid import UUID

import click

from horizon.cli.render import diff, diff_lines, event_json, event_line, state_document, state_lines
from horizon.cli.target import Connection, Target, TargetError

NOT_FOUND, USAGE, UNREADABLE, UNREACHABLE = 1, 2, 3, 4


class HorizonGroup(click.Group):
    """Turns the errors a read can end in into one line on stderr and a stable exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            ctx.exit(0)
        except Exception as error:
            code = _exit_code(error)
            if code is None:
                raise
            click.echo(f"horizon: {error}", err=True)
            ctx.exit(code)


def _exit_code(error: Exception) -> int | None:
    from horizon.errors import AggregateNotFound, BadRequest, UnreadableHistory, VersionNotFound
    from horizon.registry import UnknownType

    if isinstance(error, AggregateNotFound | VersionNotFound | UnknownType):
        return NOT_FOUND
    if isinstance(error, BadRequest):
        return USAGE
    if isinstance(error, UnreadableHistory):
        return UNREADABLE
    if isinstance(error, TargetError):
        return UNREACHABLE
    import botocore.exceptions

    if isinstance(error, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError):
        return UNREACHABLE
    return None


@click.group(cls=HorizonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--endpoint-url", help="DynamoDB endpoint. Default: the local stack at 127.0.0.1:$DYNAMODB_PORT (8000).")
@click.option("--events-table", help="A deployed events table (boto3 credentials).")
@click.option("--stack", help="A deployed Horizon stack; its EventsTableName output names the table.")
@click.option("--region", help="AWS region (default: boto3's; us-east-1 locally).")
@click.option("--registry", help="module:function building the Registry (default: domain:build_registry).")
@click.option("--read-table", help="The read table (default: the stack's ReadTableName, or horizon-read).")
@click.pass_context
def cli(
    ctx: click.Context,
    endpoint_url: str | None,
    events_table: str | None,
    stack: str | None,
    region: str | None,
    registry: str | None,
    read_table: str | None,
) -> None:
    """Read Horizon event histories: events, state at any version, live tail and state diffs."""
    target = Target.resolve(
        os.environ,
        endpoint_url=endpoint_url,
        events_table=events_table,
        stack=stack,
        region=region,
        registry=registry,
        read_table=read_table,
    )
    ctx.obj = Connection(target)


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
positive = click.IntRange(min=1)


@cli.command()
@click.argument("aggregate_type")
@click.argument("aggregate_id", type=click.UUID)
@click.option("--from", "from_version", type=positive, default=1, show_default=True, help="First version.")
@click.option("--to", "to_version", type=positive, help="Last version (default: the newest).")
@json_option
@click.pass_obj
def events(
    connection: Connection,
    aggregate_type: str,
    aggregate_id: UUID,
    from_version: int,
    to_version: int | None,
    as_json: bool,
) -> None:
    """The history of one aggregate, one line per event (--json: one envelope per line)."""
    from horizon.history import read_page

    connection.registry.aggregate(aggregate_type)
    start: int | None = from_version
    while start is not None:
        page = read_page(
            connection.store, aggregate_type, aggregate_id, from_version=start, to_version=to_version, limit=1000
        )
        for event in page.events:
            click.echo(event_json(event) if as_json else event_line(event))
        start = None if page.next_after is None else page.next_after + 1


@cli.command()
@click.argument("aggregate_type")
@click.argument("aggregate_id", type=click.UUID)
@click.option("--version", type=positive, help="The state right after this version.")
@click.option("--as-of", type=datetime.fromisoformat, help="The state at this RFC 3339 time (with an offset).")
@json_option
@click.pass_obj
def state(
    connection: Connection,
    aggregate_type: str,
    aggregate_id: UUID,
    version: int | None,
    as_of: datetime | None,
    as_json: bool,
) -> None:
    """The state of one aggregate now, after --version N, or at --as-of TIME."""
    from horizon.history import state_at

    if version is not None and as_of is not None:
        raise click.UsageError("give --version or --as-of, not both")
    if as_of is not None and as_of.tzinfo is None:
        raise click.BadParameter("the time needs an offset, e.g. 2026-11-27T10:00:00Z", param_hint="--as-of")
    aggregate = state_at(
        connection.registry, connection.store, aggregate_type, aggregate_id, version=version, as_of=as_of
    )
    document = state_document(aggregate_type, str(aggregate_id), aggregate.version, aggregate.snapshot())
    _emit(document, as_json, state_lines)


@cli.command(name="diff")
@click.argument("aggregate_type")
@click.argument("aggregate_id", type=click.UUID)
@click.option("--from", "from_version", type=click.IntRange(min=0), required=True, help="Version (0: before it).")
@click.option("--to", "to_version", type=positive, required=True, help="Version.")
@json_option
@click.pass_obj
def diff_command(
    connection: Connection, aggregate_type: str, aggregate_id: UUID, from_version: int, to_version: int, as_json: bool
) -> None:
    """What changed in the state of one aggregate between two versions."""
    from horizon.history import state_at

    if from_version > to_version:
        raise click.BadParameter(f"{from_version} is after --to {to_version}", param_hint="--from")
    after = state_at(connection.registry, connection.store, aggregate_type, aggregate_id, version=to_version)
    if from_version == 0:
        before = connection.registry.aggregate(aggregate_type)(aggregate_id).snapshot()
    else:
        before = state_at(
            connection.registry, connection.store, aggregate_type, aggregate_id, version=from_version
        ).snapshot()
    changes = diff(before, after.snapshot())
    document = {
        "aggregate_type": aggregate_type,
        "aggregate_id": str(aggregate_id),
        "from_version": from_version,
        "to_version": to_version,
        "changes": changes,
    }
    heading = f"{aggregate_type} {aggregate_id} from version {from_version} to {to_version}"
    _emit(document, as_json, lambda _: diff_lines(heading, changes))


@cli.command()
@click.option("--type", "aggregate_type", help="Only this aggregate type.")
@click.option("--from-start", is_flag=True, help="Begin at the stream's oldest record (24 h), not now.")
@click.option("--count", type=positive, help="Stop after this many events (default: follow until Ctrl-C).")
@json_option
@click.pass_obj
def tail(
    connection: Connection, aggregate_type: str | None, from_start: bool, count: int | None, as_json: bool
) -> None:
    """Follow new commits live, one line per event, until Ctrl-C."""
    from horizon.cli.tail import follow

    seen = 0
    streams = connection.client("dynamodbstreams")
    for event in follow(connection.dynamodb, streams, connection.events_table, from_start=from_start):
        if aggregate_type is not None and event.aggregate_type != aggregate_type:
            continue
        click.echo(event_json(event) if as_json else event_line(event, with_stream=True))
        seen += 1
        if count is not None and seen >= count:
            return


def _emit(document: dict[str, Any], as_json: bool, lines: Any) -> None:
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False))
    else:
        for line in lines(document):
            click.echo(line)


def _add_replay_commands() -> None:
    from horizon.cli.replay import dead_letters, rebuild, redrive, republish

    for command in (republish, dead_letters, redrive, rebuild):
        cli.add_command(command)


_add_replay_commands()


def main() -> None:
    """The `horizon` entry point."""
    cli(prog_name="horizon")
