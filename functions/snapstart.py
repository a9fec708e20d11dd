"""Lambda SnapStart: prime a function before its snapshot; after each restore, renew what copies must not share.

Lambda runs a published version's init once, snapshots the interpreter, and starts each new execution environment
from that snapshot (docs/cold-start.md). The before-snapshot hook does what a first request would otherwise pay
for: the imports, the container and its clients, and the pydantic validators of every route, warmed by requests
that validation rejects before any handler runs. It makes no AWS request and caches no data: a snapshot is
shared by every environment restored from it, for as long as the version lives.

The after-restore hook makes each restored copy its own: a fresh `random` state (the retry jitter, X-Ray's
sampling) instead of the same sequence in every copy, no pooled connection, and empty caches (time.monotonic
ages mean nothing across a restore). Credentials need nothing: with SnapStart, Lambda hands botocore container
credentials, which it refreshes before they expire, whatever the snapshot holds.

Hooks are registered only on Lambda and only when the stack turned SnapStart on (`ENV`, infra/functions.py);
`snapshot_restore_py` is the runtime's own module, imported only then.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from functions.composition import Container, container

ENV = "HORIZON_SNAPSTART"
"""Set to "1" by the stack on functions whose versions SnapStart snapshots."""

Prime = Callable[[], None]


class Hooks(Protocol):
    """The registry Lambda's runtime reads: the `snapshot_restore_py` module, or a test's stand-in."""

    def register_before_snapshot(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """Run `func` once, before Lambda snapshots the initialised environment."""
        ...

    def register_after_restore(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """Run `func` in each environment restored from the snapshot, before its first event."""
        ...


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process is a Lambda function whose stack turned SnapStart on."""
    return environ.get(ENV) == "1" and bool(environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def register(prime: Prime, hooks: Hooks | None = None) -> bool:
    """Register `prime` before the snapshot and `restored` after each restore; False when SnapStart is off."""
    if hooks is None:
        if not enabled():
            return False
        import snapshot_restore_py

        hooks = snapshot_restore_py
    hooks.register_before_snapshot(prime)
    hooks.register_after_restore(restored)
    return True


def restored() -> None:
    """After a restore: a random state of this copy's own, no connection or cached data from the snapshot."""
    random.seed()  # from os.urandom, which the restored copy draws afresh
    container().restored()


PRIMING_SUBJECT = "snapstart-priming"
"""The principal priming requests carry: API Gateway would have verified it; no handler ever sees it."""


def priming_event(method: str, path: str, body: str | None = None, query: str = "") -> dict[str, Any]:
    """An HTTP API (v2) event from a verified host; priming sends only requests that validation rejects."""
    from domain.invitation import HOSTS

    claims = {"sub": PRIMING_SUBJECT, "cognito:groups": f"[{HOSTS}]"}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else None,
        "headers": {"content-type": "application/json"} if body is not None else {},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
            "requestId": "snapstart-priming",
            "routeKey": "$default",
            "stage": "$default",
        },
    }


def _built(*parts: str) -> Container:
    """The process's container with `parts` built: objects and clients, no request."""
    built = container()
    for part in parts:
        getattr(built, part)
    return built


def _answer(app: Any, event: dict[str, Any]) -> int:
    from functions.api import OPEN_ROUTES
    from horizon.http.resolver import resolve

    status = int(resolve(app, event, None, open_routes=OPEN_ROUTES)["statusCode"])
    if status >= 500:
        raise RuntimeError(f"priming request {event['rawPath']} answered {status}: it must never reach a store")
    return status


API_PARTS = ("registry", "dynamodb", "kms", "read_store", "event_store", "command_handler")


def prime_commands() -> None:
    """Every public command's route, validated once with an empty body (422): no command runs."""
    from functions.api import command_app

    built = _built(*API_PARTS)
    app = command_app()
    for name, binding in built.registry.commands.items():
        if not binding.model.audience.internal:
            _answer(app, priming_event("POST", f"/commands/{name}", json.dumps({})))


QUERY_PRIMERS = (
    ("GET", "/health", ""),
    ("GET", "/invitations/not-an-id", ""),
    ("GET", "/invitations", "limit=0"),
    ("GET", "/aggregates/Invitation/not-an-id", ""),
    ("GET", "/aggregates/Invitation/not-an-id/events", ""),
)
"""Requests the query routes answer without a read: liveness, and parameters that validation rejects."""


def prime_queries() -> None:
    """The query routes' validators and the readers' middleware, through requests answered without a read."""
    from functions.api import query_app

    _built(*API_PARTS)
    app = query_app()
    for method, path, query in QUERY_PRIMERS:
        _answer(app, priming_event(method, path, query=query))


def prime_consumers(*parts: str) -> Prime:
    """Build the consumers' runtimes and run the stream path on an empty batch."""

    def prime() -> None:
        _built("registry", "dynamodb", "kms", "sealer", *parts).consume({"Records": []}, None, [])

    return prime


def prime_fanout() -> None:
    """The dispatcher's SQS client, its routes, and the stream path on an empty batch."""
    from horizon.dynamodb.fanout import publish_stream_batch

    built = _built("fanout", "fanout_publishes")
    publish_stream_batch({"Records": []}, built.fanout, built.fanout_publishes)
