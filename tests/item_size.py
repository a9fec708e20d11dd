"""DynamoDB's size of an item, as it bills capacity: the benchmarks' meter and the tests that bound an item use it."""

from __future__ import annotations

from typing import Any


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in DynamoDB JSON: names plus values (numbers approximated by their digits)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "B":
        return len(inner)  # the API's bytes: a binary is charged by its raw length
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return len(str(inner)) // 2 + 2
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_bytes(v) for k, v in inner.items())
    return 1
