"""Lambda entry point: the event table's stream → each queued consumer's FIFO queue that reacts to a commit.

The stream's second and last reader: every consumer besides the projector reads the commits from its own queue
of the fan-out (horizon/dynamodb/fanout.py, docs/deploy.md "Fan-out").
"""

from __future__ import annotations

from typing import Any

from functions import snapstart
from functions.composition import container
from functions.observability import observe
from horizon.dynamodb.fanout import publish_stream_batch

observed = observe("horizon-fanout")
snapstart.register(snapstart.prime_fanout)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Publish each commit some queued consumer reacts to; failed records (and their aggregates' later ones) are
    redelivered."""
    built = container()
    return publish_stream_batch(event, built.fanout, built.fanout_publishes)


handler = observed.wrap(_handle)
