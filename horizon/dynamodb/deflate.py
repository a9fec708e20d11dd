"""Text stored deflated in a binary attribute: DynamoDB bills an item by its stored bytes."""

from __future__ import annotations

import base64
import zlib
from typing import Any


def deflated(text: str) -> dict[str, Any]:
    """The binary attribute value holding `text`, deflated."""
    return {"B": zlib.compress(text.encode())}


def inflated(value: dict[str, Any]) -> str:
    """The text of a binary attribute value written by `deflated`.

    A binary arrives as bytes from the DynamoDB and Streams APIs, and base64-encoded in a Lambda event's JSON.
    """
    raw = value["B"]
    return zlib.decompress(raw if isinstance(raw, bytes | bytearray) else base64.b64decode(raw)).decode()
