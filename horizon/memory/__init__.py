"""In-memory adapters for unit tests and for trying a domain without AWS."""

from horizon.memory.eventstore import MemoryEventStore
from horizon.memory.readstore import MemoryReadStore

__all__ = ["MemoryEventStore", "MemoryReadStore"]
