"""`GET /aggregates/{aggregate_type}/{aggregate_id}/events`: any aggregate's history, for audits and debugging.

No `from __future__ import annotations`: Powertools reads the route signature at run time.
"""

from collections.abc import Callable
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from pydantic import BaseModel

from horizon.errors import AggregateNotFound
from horizon.events import Event
from horizon.eventstore import EventStore
from horizon.registry import Registry


class EventHistory(BaseModel):
    """An aggregate's events in version order."""

    events: list[Event]


def add_event_routes(app: BaseRouter, registry: Callable[[], Registry], store: Callable[[], EventStore]) -> None:
    """Register the history route; the callables are invoked per request so dependencies are built lazily."""

    @app.get(
        "/aggregates/<aggregate_type>/<aggregate_id>/events",
        summary="An aggregate's events",
        tags=["events"],
        operation_id="GetAggregateEvents",
        responses={404: {"description": "Unknown aggregate type, or no such aggregate"}},
    )
    def history(aggregate_type: str, aggregate_id: UUID) -> EventHistory:
        registry().aggregate(aggregate_type)
        events = store().load(aggregate_type, aggregate_id)
        if not events:
            raise AggregateNotFound(aggregate_type, aggregate_id, "GetAggregateEvents")
        return EventHistory(events=events)
