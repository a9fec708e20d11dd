"""The DynamoDB event store: a tip item per aggregate, written by every commit, and calved batch items.

A commit is one conditional PutItem of the whole tip: its events appended to the tip's pending list, the
snapshot replaced, built from the tip this container last read or wrote (horizon/dynamodb/tips.py). When the
pending events pass TIP_BUDGET bytes, the commit calves them into an immutable batch item in the same
transaction as its own tip write. See docs/event-store.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from horizon.dynamodb.layout import (
    BYTES,
    COMMANDS,
    EVENTS,
    FIRST,
    TIP_SORT_KEY,
    VERSION,
    bodies_of,
    decode_events,
    decode_head,
    encode_command,
    encode_event,
    packed,
    parse_stream_key,
    stream_key,
)
from horizon.dynamodb.tips import TipCache, appended, tip_condition, version_of, with_snapshot
from horizon.errors import ConcurrencyError, InvalidEvents
from horizon.events import Event
from horizon.eventstore import (
    RECENT_COMMANDS,
    AggregateRef,
    EventStore,
    Head,
    Snapshot,
    check_append,
    check_segment,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_EVENTS_PER_COMMIT = 99
"""A commit is one stream record that a consumer folds at once; 99 bounds that work (and matches the old limit)."""

MAX_COMMIT_BYTES = 256_000
"""UTF-8 bytes of a commit's envelopes: with the budget and the largest snapshot, the tip stays under 400 KB."""

MAX_SNAPSHOT_BYTES = 64_000
"""A larger state is not kept on the tip: such an aggregate replays its history on a cold load."""

TIP_BUDGET = 4_096
"""Bytes of pending envelopes and command records a tip keeps; a commit past it calves them into a batch.

Every tip write costs one write unit per KB of the tip, so a small tip keeps the common commit at 1-2 units."""


class DynamoDBEventStore(EventStore):
    """Event store on one DynamoDB table; the boto3 client is injected, never created here."""

    def __init__(
        self, client: DynamoDBClient, table_name: str, *, page_size: int | None = None, tips: TipCache | None = None
    ) -> None:
        self._client = client
        self._table = table_name
        self._page_size = page_size
        self._tips = tips if tips is not None else TipCache()

    def load(self, aggregate_type: str, aggregate_id: UUID, after_version: int = 0) -> list[Event]:
        """Return the aggregate's events with a version above `after_version`, in version order."""
        # The tip first: a commit that calves between our two reads then only adds batches we read anyway.
        tip = self._tip(aggregate_type, aggregate_id)
        if tip is None:
            return []
        version = int(tip[VERSION]["N"])
        found = {event.version: event for event in decode_events(tip, version)}
        after = max(after_version, 0)
        if min(found, default=version + 1) > after + 1:
            self._read_batches(aggregate_type, aggregate_id, after, found)
        missing = [v for v in range(after + 1, version + 1) if v not in found]
        if missing:
            raise LookupError(f"load {aggregate_type} {aggregate_id}: versions {missing[:5]} are in no item")
        return [found[v] for v in range(after + 1, version + 1)]

    def _read_batches(self, aggregate_type: str, aggregate_id: UUID, after: int, found: dict[int, Event]) -> None:
        # A batch's sort key is its last version, so `sk > after` finds every batch holding a later event.
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk > :after",
            "ExpressionAttributeValues": {
                ":pk": {"S": stream_key(aggregate_type, aggregate_id)},
                ":after": {"N": str(after)},
            },
            "ConsistentRead": True,
        }
        if self._page_size:
            request["Limit"] = self._page_size
        while True:
            page = self._client.query(**request)
            for item in page.get("Items", []):
                for event in decode_events(dict(item), int(item["sk"]["N"])):
                    found.setdefault(event.version, event)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def aggregates(self, segment: int = 0, total: int = 1) -> Iterator[AggregateRef]:
        """Every aggregate in segment `segment` of `total`: a parallel Scan segment, filtered to the tips.

        A Scan, not an index over tips: every commit rewrites its tip, so an index would double the write cost
        of every commit to save reads that only catch-up and rebuild pay (docs/delivery.md, "Catch-up").
        """
        check_segment(segment, total)
        request: dict[str, Any] = {
            "TableName": self._table,
            "Segment": segment,
            "TotalSegments": total,
            "FilterExpression": "sk = :tip",
            "ProjectionExpression": "pk, #v",
            "ExpressionAttributeNames": {"#v": VERSION},
            "ExpressionAttributeValues": {":tip": {"N": TIP_SORT_KEY}},
        }
        if self._page_size:
            request["Limit"] = self._page_size
        while True:
            page = self._client.scan(**request)
            for item in page.get("Items", []):
                aggregate_type, aggregate_id = parse_stream_key(item["pk"]["S"])
                yield AggregateRef(aggregate_type, aggregate_id, int(item[VERSION]["N"]))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def load_head(self, aggregate_type: str, aggregate_id: UUID) -> Head:
        """Return the aggregate's head (version 0 when it has no events): one strongly consistent GetItem."""
        tip = self._tip(aggregate_type, aggregate_id)
        return Head(0) if tip is None else decode_head(tip)

    def _tip(self, aggregate_type: str, aggregate_id: UUID) -> dict[str, Any] | None:
        key = {"pk": {"S": stream_key(aggregate_type, aggregate_id)}, "sk": {"N": TIP_SORT_KEY}}
        item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        self._tips.remember(dict(item))
        return dict(item)

    def _old_tip(self, commit: _Commit) -> dict[str, Any]:
        """The tip a commit continues: the one this container holds unless it is older than expected, else read.

        A held tip newer than expected is a lost race decided without a request; {} when there is no tip.
        """
        held = self._tips.get(commit.pk)
        if held is None or version_of(held) < commit.expected:
            held = self._tip(commit.aggregate_type, commit.aggregate_id)
        return held or {}

    def append(self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None = None) -> None:
        """Atomically store events (and the state after them) continuing from `expected_version`."""
        commit, bodies, size, snapshot = self._prepare(events, expected_version, snapshot)
        if expected_version == 0:
            tip = self._tip_item(commit, bodies, [], size, snapshot)
        else:
            old = self._old_tip(commit)
            if not old or version_of(old) != expected_version:
                raise commit.conflict(old)
            if int(old.get(BYTES, {}).get("N", "0")) + size > TIP_BUDGET:
                self._calve(commit, old, bodies, size, snapshot)
                return
            tip = appended(old, commit.version, bodies, size, snapshot)
        request = tip_condition(expected_version) | {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        try:
            self._client.put_item(TableName=self._table, Item=tip, **request)
        except self._client.exceptions.ConditionalCheckFailedException as error:
            response: dict[str, Any] = dict(error.response)
            raise self._lost(commit, dict(response.get("Item") or {})) from error
        except self._client.exceptions.TransactionConflictException as error:  # a calve held the tip
            raise commit.conflict(None) from error
        self._tips.remember(tip)

    def _lost(self, commit: _Commit, winner: dict[str, Any]) -> ConcurrencyError:
        """The error for a lost race, keeping the winner's tip (ALL_OLD) for the retry's write."""
        if winner:
            self._tips.remember(winner)
        return commit.conflict(winner)

    def _prepare(
        self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None
    ) -> tuple[_Commit, list[str], int, Snapshot | None]:
        """Check a commit against the store's limits; its bodies, their bytes, and the snapshot it may keep."""
        check_append(events, expected_version)
        first = events[0]
        where = f"append to {first.aggregate_type} {first.aggregate_id}"
        if len(events) > MAX_EVENTS_PER_COMMIT:
            raise InvalidEvents(f"{where}: {len(events)} events exceed {MAX_EVENTS_PER_COMMIT} per commit")
        bodies = [encode_event(event) for event in events]
        size = sum(len(body.encode()) for body in bodies)
        if size > MAX_COMMIT_BYTES:
            raise InvalidEvents(f"{where}: the commit is {size} bytes, larger than {MAX_COMMIT_BYTES} bytes")
        if snapshot is not None and len(snapshot.state.encode()) > MAX_SNAPSHOT_BYTES:
            snapshot = None
        return (
            _Commit(first.aggregate_type, first.aggregate_id, expected_version, events[-1].version),
            bodies,
            size,
            snapshot,
        )

    def _carried(self, old: dict[str, Any]) -> dict[str, Any]:
        """Attributes of the old tip that a rewritten tip keeps (a subclass's own, such as held claims)."""
        return {}

    def _tip_item(
        self, commit: _Commit, bodies: list[str], commands: list[str], size: int, snapshot: Snapshot | None
    ) -> dict[str, Any]:
        tip: dict[str, Any] = {
            "pk": {"S": commit.pk},
            "sk": {"N": TIP_SORT_KEY},
            VERSION: {"N": str(commit.version)},
            FIRST: {"N": str(commit.expected + 1)},
            EVENTS: packed(bodies),
            BYTES: {"N": str(size)},
        }
        if commands:
            tip[COMMANDS] = {"L": [{"S": text} for text in commands]}
        return with_snapshot(tip, snapshot, commit.version)

    def _calved(
        self, commit: _Commit, old: dict[str, Any], bodies: list[str], size: int, snapshot: Snapshot | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A fresh tip holding only this commit, and the Put that moves the old tip's pending events to a batch."""
        # The calved events take their command records along: keep the newest on the tip.
        kept = [encode_command(record) for record in decode_head(old).commands][-RECENT_COMMANDS:]
        tip = self._tip_item(commit, bodies, kept, size + sum(len(text) for text in kept), snapshot)
        tip |= self._carried(old)
        if not bodies_of(old):
            return tip, []
        # The pending events move as they are stored (packed, or a list on a tip written before packing).
        batch = {"pk": {"S": commit.pk}, "sk": {"N": str(commit.expected)}, EVENTS: old[EVENTS]}
        return tip, [{"Put": {"TableName": self._table, "Item": batch} | tip_condition(0)}]

    def _calve(
        self,
        commit: _Commit,
        old: dict[str, Any],
        bodies: list[str],
        size: int,
        snapshot: Snapshot | None,
    ) -> None:
        tip, actions = self._calved(commit, old, bodies, size, snapshot)
        actions.append(
            {
                "Put": {"TableName": self._table, "Item": tip, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
                | tip_condition(commit.expected)
            }
        )
        try:
            self._client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            tip_reason: dict[str, Any] = dict(reasons[-1]) if reasons else {}
            if tip_reason.get("Code") == "ConditionalCheckFailed":
                raise self._lost(commit, dict(tip_reason.get("Item") or {})) from error
            if {r.get("Code") for r in reasons} & {"ConditionalCheckFailed", "TransactionConflict"}:
                # Another writer calved or held the tip first: the same race, decided before our condition ran.
                raise commit.conflict(None) from error
            raise
        except self._client.exceptions.TransactionConflictException as error:
            raise commit.conflict(None) from error
        self._tips.remember(tip)


class _Commit:
    """Where one append goes, and the error it raises when it loses."""

    def __init__(self, aggregate_type: str, aggregate_id: UUID, expected: int, version: int) -> None:
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id
        self.expected = expected
        self.version = version
        self.pk = stream_key(aggregate_type, aggregate_id)

    def conflict(self, old: dict[str, Any] | None) -> ConcurrencyError:
        """The ConcurrencyError for a lost race; `old` is the winner's tip (ALL_OLD), {} for none, None unknown."""
        if old is None:
            return ConcurrencyError(self.aggregate_type, self.aggregate_id, self.expected, None)
        head = decode_head(old) if old else Head(0)
        return ConcurrencyError(self.aggregate_type, self.aggregate_id, self.expected, head.version, head)
