"""Who reads the commits, and how: the stream's two readers, and the consumers behind the fan-out.

Names are the functions' (infra/functions.py; locally `functions.<name in lower case>`). The stack and the local
stack both wire consumers from these lists, so adding a consumer is one line in QUEUED and never a stream reader.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from horizon.projection import EventTypes

FANOUT = "Fanout"
"""The dispatcher: it sends every commit to the queue of each queued consumer that reacts to it (functions/fanout.py;
the stack names each QUEUED function's queue and `reacts_to` in the dispatcher's environment)."""

STREAM_READERS = ("Projector", FANOUT)
"""The events table's stream serves about two readers per shard: these two, the read models' latency first."""

QUEUED = {"Saga": "build_sagas"}
"""Every other consumer: its own FIFO queue that the dispatcher sends to, its own dead-letter queue; with the
domain's function that builds what it runs (functions/composition.py builds the same)."""


def reacts_to(name: str, guest_limit: int, domain: str = "domain") -> EventTypes:
    """The event types a queued function reacts to: what its consumers declare (None: every type).

    The dispatcher sends its queue only the commits that hold one of them (infra/streams.py names them in its
    environment, as horizon/local/fanout.py does locally).
    """
    from horizon.projection import reacting_to

    return reacting_to(getattr(importlib.import_module(domain), QUEUED[name])(guest_limit))
