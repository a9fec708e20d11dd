"""Capacity units from what crosses the wire: DynamoDB's sizing rules applied to the items we read and write.

moto does not report consumed capacity faithfully, so the meter sizes items itself (attribute names plus values,
rounded up per item to 1 KB for writes and 4 KB for strongly consistent reads, doubled in transactions). A
PutItem that replaces an item, and an UpdateItem, are charged the larger of the two images, so the meter sizes
the item it replaces (before a PutItem) or the item after the update with an uncounted read.
"""

from __future__ import annotations

import math
from typing import Any

from tests.item_size import item_bytes

WRITE_PRICE = 0.625 / 1_000_000
READ_PRICE = 0.125 / 1_000_000


class CapacityMeter:
    """Adds up write and read units of every DynamoDB call a client makes."""

    def __init__(self, client: Any, sizer: Any) -> None:
        self.units: dict[str, float] = {"WRU": 0.0, "RRU": 0.0}  # eventually consistent reads count half
        self._sizer = sizer
        self._pending: dict[str, Any] = {}
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self._pending = {"op": model.name, "params": params, "replaced": 0}
        if model.name == "PutItem":
            key = {name: params["Item"][name] for name in ("pk", "sk") if name in params["Item"]}
            self._pending["replaced"] = item_bytes(self._sizer(params["TableName"], key) or {})

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        op, params = model.name, dict(self._pending.get("params", {}))
        if op == "PutItem":
            self.units["WRU"] += _kb(max(item_bytes(params["Item"]), self._pending.get("replaced", 0)), 1024)
        elif op == "UpdateItem":
            after = self._sizer(params["TableName"], params["Key"]) or params["Key"]
            self.units["WRU"] += _kb(item_bytes(after), 1024)
        elif op == "TransactWriteItems":
            for action in params["TransactItems"]:
                (body,) = action.values()
                self.units["WRU"] += 2 * _kb(item_bytes(body.get("Item") or body.get("Key", {})), 1024)
        elif op == "GetItem":
            self.units["RRU"] += _kb(item_bytes(parsed.get("Item", {})), 4096) or 1
        elif op == "BatchGetItem":
            found = [item for items in parsed.get("Responses", {}).values() for item in items]
            requests = list(params.get("RequestItems", {}).values())
            asked = sum(len(request["Keys"]) for request in requests)
            # An absent item still costs the minimum unit; an eventually consistent read costs half.
            scale = 1.0 if all(request.get("ConsistentRead") for request in requests) else 0.5
            units = sum(_kb(item_bytes(item), 4096) for item in found) + asked - len(found)
            self.units["RRU"] += units * scale
        elif op == "Query":
            self.units["RRU"] += max(1, _kb(sum(item_bytes(item) for item in parsed.get("Items", [])), 4096))

    def dollars(self) -> float:
        """The list price of the units counted so far."""
        return self.units["WRU"] * WRITE_PRICE + self.units["RRU"] * READ_PRICE


def _kb(size: int, unit: int) -> int:
    return math.ceil(size / unit) if size else 0
