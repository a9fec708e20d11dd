"""Unique-value claims in the events table, written in the same transaction as the commit that makes them.

A claim is an item `pk = claim#<scope>#<keyed hash>`, `sk = -1` (below every tip and batch, so no stream
consumer mistakes it for a commit), `owner = <the aggregate's stream key>`. The tip remembers the claims it
holds (`claims`: scope → hash), so a release needs no value in clear: it reads the tip, then deletes the claim
items and rewrites the tip in one transaction conditional on the tip's version. Only commits that claim or
release pay for the transaction (2 WCU per item per KB); past creation they read the tip only when this
container does not hold it already (horizon/dynamodb/tips.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from horizon.dynamodb.eventstore import DynamoDBEventStore, _Commit
from horizon.dynamodb.layout import CLAIM_PREFIX, VERSION
from horizon.dynamodb.tips import tip_condition
from horizon.events import Event
from horizon.eventstore import Snapshot
from horizon.uniqueness import ClaimingEventStore, ClaimSet, ValueTaken

CLAIM_SORT_KEY = "-1"
HELD = "claims"
"""Tip attribute: the claims the aggregate holds, scope → keyed hash."""


def claim_key(scope: str, digest: str) -> str:
    """The partition key of one claim item."""
    return f"{CLAIM_PREFIX}{scope}#{digest}"


class DynamoDBClaimingEventStore(DynamoDBEventStore, ClaimingEventStore):
    """The DynamoDB event store, with claims kept beside the streams in the same table."""

    def append_claiming(
        self, events: Sequence[Event], expected_version: int, snapshot: Snapshot | None, claims: ClaimSet
    ) -> None:
        """Like `append`, with the claims and releases in the same atomic write; ValueTaken for a taken value."""
        commit, bodies, size, snapshot = self._prepare(events, expected_version, snapshot)
        actions: list[dict[str, Any]] = []
        held: dict[str, str] = {}
        if expected_version == 0:
            tip = self._tip_item(commit, bodies, [], size, snapshot)
        else:
            old = self._old_tip(commit)
            if not old or int(old[VERSION]["N"]) != expected_version:
                raise commit.conflict(old)
            held = {scope: value["S"] for scope, value in old.get(HELD, {}).get("M", {}).items()}
            # The tip is rewritten whole (its pending events calved), so the transaction holds a full image.
            tip, actions = self._calved(commit, old, bodies, size, snapshot)
            tip.pop(HELD, None)  # decided below, from what is held, claimed and released
        now = {scope: digest for scope, digest in held.items() if scope not in claims.releases}
        now |= claims.claims
        if now:
            tip[HELD] = {"M": {scope: {"S": digest} for scope, digest in now.items()}}
        tip_index = len(actions)
        actions.append(
            {"Put": {"TableName": self._table, "Item": tip, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
        )
        actions[-1]["Put"] |= tip_condition(expected_version)
        owner = {":me": {"S": commit.pk}}
        for scope, digest in held.items():
            if now.get(scope) != digest:
                actions.append(self._claim("Delete", scope, digest, "#o = :me", owner))
        taken: dict[int, str] = {}
        for scope, digest in claims.claims.items():
            if held.get(scope) != digest:
                taken[len(actions)] = scope
                condition = "attribute_not_exists(pk) OR #o = :me"
                actions.append(self._claim("Put", scope, digest, condition, owner, commit.pk))
        self._transact(commit, actions, tip_index, taken)
        self._tips.remember(tip)

    def _claim(
        self, verb: str, scope: str, digest: str, condition: str, values: dict[str, Any], owner: str | None = None
    ) -> dict[str, Any]:
        key = {"pk": {"S": claim_key(scope, digest)}, "sk": {"N": CLAIM_SORT_KEY}}
        body: dict[str, Any] = {"TableName": self._table, "ConditionExpression": condition}
        body |= {"ExpressionAttributeNames": {"#o": "owner"}, "ExpressionAttributeValues": values}
        if owner is None:
            body["Key"] = key
        else:
            body["Item"] = key | {"owner": {"S": owner}}
        return {verb: body}

    def _transact(self, commit: _Commit, actions: list[dict[str, Any]], tip_index: int, taken: dict[int, str]) -> None:
        try:
            self._client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except self._client.exceptions.TransactionCanceledException as error:
            reasons: list[dict[str, Any]] = [dict(r) for r in error.response.get("CancellationReasons", [])]
            codes = [reason.get("Code") for reason in reasons]
            if len(reasons) > tip_index and codes[tip_index] == "ConditionalCheckFailed":
                raise self._lost(commit, dict(reasons[tip_index].get("Item") or {})) from error
            for index, scope in taken.items():
                if len(codes) > index and codes[index] == "ConditionalCheckFailed":
                    raise ValueTaken(commit.aggregate_type, commit.aggregate_id, scope) from error
            if set(codes) & {"ConditionalCheckFailed", "TransactionConflict"}:
                raise commit.conflict(None) from error
            raise
        except self._client.exceptions.TransactionConflictException as error:
            raise commit.conflict(None) from error

    def _carried(self, old: dict[str, Any]) -> dict[str, Any]:
        """A tip rewritten by calving keeps the claims it holds."""
        return {HELD: old[HELD]} if HELD in old else {}
