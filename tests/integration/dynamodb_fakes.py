"""A DynamoDB client fake for what moto never does: cancel a write because another transaction holds the item."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ContendedClient:
    """Delegates to a real (moto) client, but its writes lose to a concurrent transaction, as DynamoDB's can.

    TransactWriteItems is cancelled with reason code TransactionConflict on the first item; single-item writes
    raise TransactionConflictException. Both mean "retry", exactly like a failed condition.
    """

    def __init__(self, real: DynamoDBClient) -> None:
        self._real = real
        self.exceptions = real.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def transact_write_items(self, **request: Any) -> None:
        others = [{"Code": "None"}] * (len(request["TransactItems"]) - 1)
        response: Any = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "TransactionConflict", "Message": "Transaction is ongoing"}, *others],
        }
        raise self.exceptions.TransactionCanceledException(response, "TransactWriteItems")

    def put_item(self, **request: Any) -> None:
        raise self.exceptions.TransactionConflictException(
            {"Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing"}}, "PutItem"
        )

    def update_item(self, **request: Any) -> None:
        raise self.exceptions.TransactionConflictException(
            {"Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing"}}, "UpdateItem"
        )

    def delete_item(self, **request: Any) -> None:
        raise self.exceptions.TransactionConflictException(
            {"Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing"}}, "DeleteItem"
        )
