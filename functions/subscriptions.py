"""Who reads the commits, and how: the stream's two readers, and the consumers behind the fan-out.

Names are the functions' (infra/functions.py; locally `functions.<name in lower case>`). The stack and the local
stack both wire consumers from these lists, so adding a consumer is one line in QUEUED and never a stream reader.
"""

from __future__ import annotations

FANOUT = "Fanout"
"""The dispatcher: it publishes every commit to the fan-out topic (functions/fanout.py)."""

STREAM_READERS = ("Projector", FANOUT)
"""The events table's stream serves about two readers per shard: these two, the read models' latency first."""

QUEUED = ("Saga",)
"""Every other consumer: its own FIFO queue subscribed to the fan-out topic, its own dead-letter queue."""
