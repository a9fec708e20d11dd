"""Recording what a function's code asks of AWS, as IAM sees it: (action, resource, partition key) per request.

A `CallRecorder` is a botocore `provide-client-params` handler registered on the clients one function's
container uses (each client has its own copy of the session's event emitter, so nothing global is patched).
Each API operation is turned into the IAM actions it needs, the way IAM authorizes it: a transaction's items
are authorized as their own PutItem, UpdateItem, DeleteItem, ConditionCheckItem or GetItem on their own table
(docs/security.md, "Least privilege"), a batch read or write is its own action on every table it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.permissions import Resource

TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
TRANSACT_GET = {"Get": "GetItem"}
ITEM_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"}
PARTITION_KEY = "pk"
"""Every Horizon table's partition key attribute (horizon/dynamodb/tables.py, datakeys.py)."""


@dataclass(frozen=True)
class Call:
    """One IAM authorization a request needs: the action, the resource, and the partition key it touches."""

    action: str
    resource: Resource | str
    """A Horizon resource, or `unknown …` for one no grant can name (a table or index not in `tables`)."""
    partition: str | None
    """The item's or the query's partition key; None for a Scan (every partition) and for KMS."""


@dataclass
class CallRecorder:
    """Collects the calls of every client `attach`ed to it; `tables` and `keys` name the resources."""

    tables: Mapping[str, Resource]
    kms_key: Resource
    secret: Resource = Resource.CLAIMS_SECRET
    """The one secret the functions read."""
    calls: list[Call] = field(default_factory=list)

    def attach(self, client: Any) -> Any:
        """Record every request `client` makes from now on; returns the client."""
        client.meta.events.register("provide-client-params", self._record)
        return client

    def actions(self) -> set[tuple[str, Resource | str]]:
        """Every (action, resource) the recorded requests needed."""
        return {(call.action, call.resource) for call in self.calls}

    def partitions(self, action: str, resource: Resource) -> set[str | None]:
        """The partition keys `action` touched on `resource`."""
        return {c.partition for c in self.calls if c.action == action and c.resource == resource}

    def _record(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_id.hyphenize()
        self.calls.extend(self._authorizations(service, model.name, params))

    def _authorizations(self, service: str, operation: str, params: Mapping[str, Any]) -> Iterator[Call]:
        if service == "kms":
            yield Call(f"kms:{operation}", self.kms_key, None)
        elif service == "secrets-manager":
            yield Call(f"secretsmanager:{operation}", self.secret, None)
        elif service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
            # IAM authorizes SendMessageBatch as sqs:SendMessage; only the dispatcher sends, to the queued consumers.
            yield Call("sqs:SendMessage", Resource.QUEUED_CONSUMERS, None)
        elif operation in ITEM_OPERATIONS:
            yield self._item(operation, params)
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            for table, request in params["RequestItems"].items():
                keys = request["Keys"] if operation == "BatchGetItem" else [_written_key(r) for r in request]
                for key in keys:
                    yield Call(f"dynamodb:{operation}", self._table(table), key[PARTITION_KEY]["S"])
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            kinds = TRANSACT_WRITE if operation == "TransactWriteItems" else TRANSACT_GET
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                yield self._item(kinds[kind], body)
        else:  # an operation this recorder does not know: recorded as such, so the comparison fails loudly
            yield Call(f"{service}:{operation}", f"unknown: {operation}", None)

    def _item(self, action: str, params: Mapping[str, Any]) -> Call:
        resource = self._table(params["TableName"])
        if "IndexName" in params:  # IAM names an index by its own ARN, and no Horizon table has one yet
            resource = f"unknown: index {params['IndexName']} of {resource}"
        key = params.get("Key") or params.get("Item")
        if key is not None:
            partition: str | None = key[PARTITION_KEY]["S"]
        elif action == "Query":
            partition = _queried_partition(params)
        else:
            partition = None
        return Call(f"dynamodb:{action}", resource, partition)

    def _table(self, name: str) -> Resource | str:
        return self.tables.get(name, f"unknown: table {name}")


def _written_key(request: Mapping[str, Any]) -> Mapping[str, Any]:
    if "PutRequest" in request:
        return dict(request["PutRequest"]["Item"])
    return dict(request["DeleteRequest"]["Key"])


def _queried_partition(params: Mapping[str, Any]) -> str | None:
    found = re.search(rf"\b{PARTITION_KEY} = (:\w+)", params.get("KeyConditionExpression", ""))
    if found is None:
        return None
    return str(params["ExpressionAttributeValues"][found.group(1)]["S"])
