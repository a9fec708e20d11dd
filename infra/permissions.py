"""Least privilege, by the letter: every AWS action each function may take, and on what. Defined here once.

`CODE` is what each function's own code calls (the AWS SDK requests its composition root's clients make),
expressed as IAM authorizes it: a transaction's items as their own PutItem/UpdateItem/DeleteItem/
ConditionCheckItem on their own table, a batch as BatchGetItem/BatchWriteItem. tests/integration/
test_least_privilege.py records every function's requests on moto and requires them to be exactly `CODE`;
tests/infra/test_least_privilege.py requires every role in the template to be exactly `grants()`. So a new call
without a grant fails, and so does a grant nobody uses.

`SERVICE` is what AWS services do with a function's role on its behalf (Lambda's event source mapping reads the
stream and sends give-ups to the failure queue; Lambda writes logs; DynamoDB uses a customer-managed table key).
No code of ours makes these requests, so they are declared, not recorded.

No function may delete or overwrite an event: only the command path (and the saga and catch-up, which send
commands in-process) write the events table; DeleteItem there is limited to claim items by `dynamodb:LeadingKeys`.
docs/security.md, "Least privilege", explains what IAM can and cannot see.

This module is plain data (no CDK import), so the integration tests read it without starting jsii.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from horizon.dynamodb.layout import CLAIM_PREFIX
from horizon.idempotency import COLLECTION as IDEMPOTENCY


class Resource(StrEnum):
    """What a grant names; infra/functions.py turns each into its ARN."""

    EVENTS = "events table"
    EVENTS_STREAM = "events table's stream"
    READ = "read table"
    KEYS = "data-key table"
    DATA_KEY_WRAPPER = "KMS key wrapping the data keys"
    CLAIMS_SECRET = "secret keying the unique-value claims"
    TABLE_KEY = "KMS key of the tables (prod with table_cmk)"
    FAILURES = "stream failure queue"
    QUEUED_CONSUMERS = "every queued consumer's SQS FIFO queue of the fan-out"
    OWN_QUEUE = "the function's own SQS FIFO queue of the fan-out"
    LOG_GROUP = "the function's own log group"
    ANY = "*"
    """Only for actions that have no resource-level permissions."""


@dataclass(frozen=True)
class Grant:
    """One action on one resource; `partitions` (StringLike patterns) limits it to those partition keys."""

    action: str
    resource: Resource
    partitions: tuple[str, ...] = ()


def _on(resource: Resource, *actions: str, partitions: tuple[str, ...] = ()) -> frozenset[Grant]:
    return frozenset(Grant(action, resource, partitions) for action in actions)


CLAIMS = (f"{CLAIM_PREFIX}*",)
"""Claim items of the events table: the only items any function may delete there."""
IDEMPOTENCY_RECORDS = (IDEMPOTENCY,)
"""The read table's Idempotency-Key partition: the only part of it the command function touches."""

_LOAD_HISTORY = _on(Resource.EVENTS, "dynamodb:GetItem", "dynamodb:Query")
"""The tip (one GetItem), then the calved batches that hold older events (Query)."""
_LOAD_HEAD_WITH_KEY = _on(Resource.EVENTS, "dynamodb:BatchGetItem")
"""A head read with its data key when the key is not cached: one BatchGetItem across two tables (with
_OPEN_SEALED's on the keys table; horizon/dynamodb/keyed_heads.py). Whoever decides a command, or checks an
owner, reads heads."""
_APPEND = _on(Resource.EVENTS, "dynamodb:PutItem")
"""A commit: one conditional PutItem of its whole tip (horizon/dynamodb/tips.py), or a calving transaction."""
_CREATE_AND_CLAIM = _APPEND | _on(Resource.EVENTS, "dynamodb:DeleteItem", partitions=CLAIMS)
"""A new tip, a claim (PutItem, alone or in a transaction); a released claim (DeleteItem)."""
_OPEN_SEALED = _on(Resource.KEYS, "dynamodb:BatchGetItem") | _on(Resource.DATA_KEY_WRAPPER, "kms:Decrypt")
"""Read the subjects' wrapped data keys and unwrap them."""
_SEAL = _on(Resource.KEYS, "dynamodb:PutItem")
"""Create a subject's data key (a conditional PutItem that returns the existing one), or write its tombstone."""
_NEW_SUBJECTS = _SEAL | _on(Resource.DATA_KEY_WRAPPER, "kms:GenerateDataKey")
"""Whoever creates subjects may be the first of a month, and makes its branch key (horizon/dynamodb/branch_keys.py):
the only KMS call that makes a key. Sealing for an existing subject never makes one."""
_CLAIM_KEY = _on(Resource.CLAIMS_SECRET, "secretsmanager:GetSecretValue")
"""Fetch the claims' HMAC key, on a container's first claim (horizon/secrets.py): never in an environment."""
_CONSUME = _on(Resource.READ, "dynamodb:BatchGetItem", "dynamodb:PutItem")
"""Tracked consumers: read documents and positions, write them back conditionally (one item or a transaction)."""

CODE: dict[str, frozenset[Grant]] = {
    "Command": _LOAD_HISTORY
    | _LOAD_HEAD_WITH_KEY
    | _APPEND
    | _CREATE_AND_CLAIM
    | _CLAIM_KEY
    | _NEW_SUBJECTS
    | _OPEN_SEALED
    | _on(Resource.READ, "dynamodb:PutItem", "dynamodb:BatchGetItem", partitions=IDEMPOTENCY_RECORDS),
    "Query": _LOAD_HISTORY
    | _LOAD_HEAD_WITH_KEY
    | _OPEN_SEALED
    | _on(Resource.READ, "dynamodb:BatchGetItem", "dynamodb:Query"),
    "Projector": _LOAD_HISTORY | _OPEN_SEALED | _CONSUME,
    "Saga": _LOAD_HISTORY | _LOAD_HEAD_WITH_KEY | _APPEND | _SEAL | _OPEN_SEALED | _CONSUME,
    "CatchUp": _on(Resource.EVENTS, "dynamodb:Scan")
    | _LOAD_HISTORY
    | _LOAD_HEAD_WITH_KEY
    | _APPEND
    | _SEAL
    | _OPEN_SEALED
    | _CONSUME
    # A rebuild's purge lists a generation's documents and deletes them (horizon/generations.py).
    | _on(Resource.READ, "dynamodb:Query", "dynamodb:DeleteItem"),
    # The dispatcher sends the commits queued consumers react to to their queues (SendMessageBatch is authorized as
    # sqs:SendMessage) and touches no table.
    "Fanout": _on(Resource.QUEUED_CONSUMERS, "sqs:SendMessage"),
}
"""Function name (infra/functions.py SPECS) → what its code calls. One entry per function.

Not granted because the code never asks, as the recorded story shows:
- DeleteItem on the events table outside claim items, for anyone; BatchWriteItem and Scan but for catch-up's Scan;
- UpdateItem on the events table, for anyone: a commit rewrites its tip whole. IAM cannot tell a tip's
  conditional PutItem from an overwrite of an event, which is why the condition lives in the one module that
  writes tips (horizon/dynamodb/eventstore.py) and never in a caller;
- DeleteItem on the read table for the projector and saga: no projection of this domain deletes a document
  (only catch-up's rebuild purges whole generations);
- GetItem on the data-key table: a failed create returns the existing key (ALL_OLD);
- the claims secret for anyone but the command function: the saga's and catch-up's commands (confirm, deny)
  claim no value, and a release deletes the claims the tip remembers, with no hash to compute.
"""

GRANTED_AT_SYNTHESIS = frozenset({Resource.QUEUED_CONSUMERS})
"""Resources known only once every consumer is wired, however late: infra/streams.py grants these at synthesis,
as it names the queues in the dispatcher's environment; infra/functions.py grants every other resource."""

LOGS = _on(Resource.LOG_GROUP, "logs:CreateLogStream", "logs:PutLogEvents")
TRACING = _on(Resource.ANY, "xray:PutTraceSegments", "xray:PutTelemetryRecords")
"""Added by the CDK itself for active tracing (infra/functions.py); listed so the template is compared whole."""
STREAM_CONSUMER = (
    _on(Resource.EVENTS_STREAM, "dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords")
    | _on(Resource.ANY, "dynamodb:ListStreams")
    | _on(Resource.FAILURES, "sqs:SendMessage")
)
"""Lambda's event source mapping polls the stream and sends a give-up pointer to the queue, as the function."""

QUEUE_CONSUMER = _on(Resource.OWN_QUEUE, "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
"""Lambda's event source mapping polls a queued consumer's own queue and deletes what succeeded, as the function."""

SERVICE: dict[str, frozenset[Grant]] = {
    "Command": LOGS | TRACING,
    "Query": LOGS | TRACING,
    "Projector": LOGS | TRACING | STREAM_CONSUMER,
    "Saga": LOGS | TRACING | QUEUE_CONSUMER,
    "CatchUp": LOGS | TRACING,
    "Fanout": LOGS | TRACING | STREAM_CONSUMER,
}

TABLES = frozenset({Resource.EVENTS, Resource.READ, Resource.KEYS})
TABLE_KEY_READS = ("kms:Decrypt", "kms:DescribeKey")
TABLE_KEY_WRITES = ("kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
"""What DynamoDB does with a customer-managed table key for a caller that reads, or also writes, such a table."""
WRITES = frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"})


def table_key(code: frozenset[Grant]) -> frozenset[Grant]:
    """The table-key grants a function needs when the tables are encrypted with a customer-managed key."""
    on_tables = [grant for grant in code if grant.resource in TABLES]
    if not on_tables:
        return frozenset()
    actions = TABLE_KEY_READS + (TABLE_KEY_WRITES if any(g.action in WRITES for g in on_tables) else ())
    return _on(Resource.TABLE_KEY, *actions)


def grants(function: str, *, table_cmk: bool) -> frozenset[Grant]:
    """Everything `function`'s role may do: its code's calls and what AWS does on its behalf."""
    code = CODE[function]
    return code | SERVICE[function] | (table_key(code) if table_cmk else frozenset())
