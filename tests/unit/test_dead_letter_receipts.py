"""Reading a dead-letter queue keeps each message's latest receipt handle: the only one SQS deletes by."""

from __future__ import annotations

import itertools
import json
from typing import Any

from horizon.local.deadletters import QueueDeadLetters


class StrictQueue:
    """An SQS queue as AWS keeps one: every receive hands out a new receipt handle, and a delete by an older
    handle succeeds without deleting the message (moto deletes by any handle it ever gave)."""

    def __init__(self, *bodies: dict[str, Any]) -> None:
        self.bodies = {f"m{index}": body for index, body in enumerate(bodies)}
        self.latest: dict[str, str] = {}
        self._handles = itertools.count(1)

    def receive_message(self, **_: Any) -> dict[str, Any]:
        """Every message, visible at once again (VisibilityTimeout=0), each under a new receipt handle."""
        for message_id in self.bodies:
            self.latest[message_id] = f"receipt-{next(self._handles)}"
        return {
            "Messages": [
                {"MessageId": m, "ReceiptHandle": self.latest[m], "Body": json.dumps(b), "Attributes": {}}
                for m, b in self.bodies.items()
            ]
        }

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> None:  # noqa: N803  # boto3's names
        """Delete only by the latest handle; an older one is accepted and changes nothing."""
        for message_id, handle in list(self.latest.items()):
            if handle == ReceiptHandle:
                del self.bodies[message_id]


def test_every_listed_letter_can_be_deleted_by_the_receipt_handle_it_was_listed_with() -> None:
    queue = StrictQueue({"requestContext": {"n": 1}}, {"requestContext": {"n": 2}})
    letters = QueueDeadLetters(queue, url="https://sqs.local/dead")  # type: ignore[arg-type]

    listed = letters.list()
    for receipt_handle, _ in listed:
        letters.delete(receipt_handle)

    assert [message["requestContext"]["n"] for _, message in listed] == [1, 2]
    assert queue.bodies == {}
