"""Time travel over HTTP: any aggregate's state at a version or a moment, and its history page by page.

No `from __future__ import annotations`: Powertools reads the route signatures at run time.
"""

import base64
import binascii
import re
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, BaseModel

from horizon.errors import BadRequest
from horizon.events import Event
from horizon.eventstore import EventStore
from horizon.history import read_page, state_at
from horizon.http.contract import AUTHENTICATED, READS, answers, cursor_query
from horizon.registry import Registry

MAX_PAGE = 1000
_CURSOR = re.compile(r"after:([1-9][0-9]{0,17})")

_CAUSES = {
    400: "Contradictory or foreign values: from_version > to_version, both version and as_of, a foreign cursor",
    404: "Unknown aggregate type, no such aggregate, or a version or time outside its history (`current_version`)",
    422: "A value of the wrong type or range: not an integer, below 1, limit outside 1-1000, a malformed time "
    "(RFC 3339 with an offset)",
    500: "Unreadable history: a stored event today's code cannot read (the body names it); an operational error",
}


class EventHistory(BaseModel):
    """A page of an aggregate's events in version order; pass `next_cursor` back as `cursor` for the next."""

    aggregate_type: str
    aggregate_id: UUID
    events: list[Event]
    next_cursor: str | None


class AggregateState(BaseModel):
    """An aggregate's state at a version: its state model as JSON."""

    aggregate_type: str
    aggregate_id: UUID
    version: int
    state: dict[str, Any]


def add_event_routes(app: BaseRouter, registry: Callable[[], Registry], store: Callable[[], EventStore]) -> None:
    """Register the state and history routes; the callables are invoked per request to build dependencies lazily."""

    @app.get(
        "/aggregates/<aggregate_type>/<aggregate_id>",
        summary="An aggregate's state, now or in the past",
        tags=["events"],
        operation_id="GetAggregateState",
        responses=answers("The state after `version`, after `as_of`, or now", READS, _CAUSES),
        security=AUTHENTICATED,
    )
    def state(
        aggregate_type: str,
        aggregate_id: UUID,
        version: Annotated[int | None, Query(ge=1, description="The state right after this version")] = None,
        as_of: Annotated[
            AwareDatetime | None,
            Query(description="The state after the last event stamped at or before this RFC 3339 time"),
        ] = None,
    ) -> AggregateState:
        aggregate = state_at(
            registry(),
            store(),
            aggregate_type,
            aggregate_id,
            version=version,
            as_of=as_of,
            operation="GetAggregateState",
        )
        return AggregateState(
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            version=aggregate.version,
            state=aggregate.snapshot(),
        )

    @app.get(
        "/aggregates/<aggregate_type>/<aggregate_id>/events",
        summary="An aggregate's events, page by page",
        tags=["events"],
        operation_id="GetAggregateEvents",
        responses=answers("A page of events; `next_cursor` is null on the last", READS, _CAUSES),
        security=AUTHENTICATED,
    )
    def history(
        aggregate_type: str,
        aggregate_id: UUID,
        from_version: Annotated[int, Query(ge=1, description="The first version (default 1)")] = 1,
        to_version: Annotated[int | None, Query(ge=1, description="The last version (default: the newest)")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size, 1 to {MAX_PAGE}")] = 100,
        cursor: Annotated[str | None, cursor_query(max_length=64)] = None,
    ) -> EventHistory:
        registry().aggregate(aggregate_type)
        start = from_version if cursor is None else _decode_cursor(cursor) + 1
        page = read_page(
            store(),
            aggregate_type,
            aggregate_id,
            from_version=start,
            to_version=to_version,
            limit=limit,
            operation="GetAggregateEvents",
        )
        return EventHistory(
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            events=page.events,
            next_cursor=None if page.next_after is None else _encode_cursor(page.next_after),
        )


def _encode_cursor(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        match = _CURSOR.fullmatch(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, ValueError):
        match = None
    if match is None:
        raise BadRequest("GetAggregateEvents: the cursor is not one this API handed out")
    return int(match.group(1))
