"""SnapStart's hooks: registered only when the stack asks, priming makes no request and caches nothing, and a
restored copy starts with empty caches, no pooled connection and a random state of its own."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
from botocore.session import get_session

from domain.invitation import CreateInvite
from functions import composition, snapstart
from functions import settings as settings_module
from functions.composition import Container, Settings
from horizon.aggregate_cache import AggregateCache
from horizon.command_handler import CommandHandler
from horizon.local.fake_aws import FAKE_AWS_ENV
from horizon.memory import MemoryEventStore
from horizon.memory.datakeys import MemoryDataKeys
from horizon.privacy.cache import CachedDataKeys
from tests.principals import as_host

NOWHERE = "http://127.0.0.1:9"
"""The discard port: a request that got this far would fail, but none may get this far."""


class RecordingHooks:
    """Stands in for `snapshot_restore_py`: keeps what was registered, as the runtime's registry does."""

    def __init__(self) -> None:
        self.before: list[Callable[..., Any]] = []
        self.after: list[Callable[..., Any]] = []

    def register_before_snapshot(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.before.append(func)
        return func

    def register_after_restore(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.after.append(func)
        return func


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS request any client of the container tries; each is refused before it leaves the process."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    tried: list[str] = []

    def refuse(**kwargs: Any) -> None:
        tried.append(kwargs["request"].url)
        raise ConnectionRefusedError("priming must not call AWS")

    session = get_session()
    session.register("before-send", refuse)
    monkeypatch.setattr(settings_module, "session", lambda: session)
    settings = Settings("events", "read", 2, 0.0, FAKE_AWS_ENV["AWS_REGION"], NOWHERE, fanout_queues="[]")
    composition.use(Container(settings))
    yield tried
    composition.use(None)


PRIMERS = {
    "commands": snapstart.prime_commands,
    "queries": snapstart.prime_queries,
    "projector": snapstart.prime_consumers("projectors"),
    "saga": snapstart.prime_consumers("sagas"),
    "catch-up": snapstart.prime_consumers("projectors", "sagas"),
    "fan-out": snapstart.prime_fanout,
}


@pytest.mark.parametrize("name", PRIMERS)
def test_priming_builds_the_clients_without_a_request_and_caches_no_data(name: str, requests: list[str]) -> None:
    PRIMERS[name]()

    built = composition.container()
    assert requests == []
    assert {"dynamodb", "sqs"} & set(vars(built))  # a client was built: its service model is in the snapshot
    assert len(built.aggregate_cache) == 0 if "aggregate_cache" in vars(built) else True
    assert len(built.tips) == 0 if "tips" in vars(built) else True
    assert len(built.data_keys) == 0 if "data_keys" in vars(built) else True
    assert not built.claims_secret.fetched if "claims_secret" in vars(built) else True


def test_command_priming_validates_every_public_command_route(requests: list[str]) -> None:
    from functions.api import command_app

    snapstart.prime_commands()

    app = command_app()
    # Powertools builds each route's validation (its "dependant") on the route's first request.
    primed = {route.path for route in app._static_routes + app._dynamic_routes if route._dependant is not None}
    public = {
        name
        for name, binding in composition.container().registry.commands.items()
        if not binding.model.audience.internal
    }
    assert primed == {f"/commands/{name}" for name in public}
    assert requests == []


def test_hooks_are_registered_only_on_lambda_with_snapstart_on() -> None:
    assert not snapstart.enabled({})
    assert not snapstart.enabled({snapstart.ENV: "1"})
    assert not snapstart.enabled({"AWS_LAMBDA_FUNCTION_NAME": "Command", snapstart.ENV: "0"})
    assert snapstart.enabled({"AWS_LAMBDA_FUNCTION_NAME": "Command", snapstart.ENV: "1"})


def test_off_lambda_registering_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(snapstart.ENV, raising=False)
    assert snapstart.register(snapstart.prime_commands) is False


def test_the_primer_runs_before_the_snapshot_and_the_renewal_after_each_restore() -> None:
    hooks = RecordingHooks()
    assert snapstart.register(snapstart.prime_queries, hooks) is True
    assert hooks.before == [snapstart.prime_queries]
    assert hooks.after == [snapstart.restored]


def test_a_restored_copy_keeps_no_cached_key_aggregate_tip_or_secret(requests: list[str]) -> None:
    # GIVEN a container whose caches hold a data key, an aggregate and a tip (as a warm one would)
    built = composition.container()
    keys = CachedDataKeys(MemoryDataKeys())
    vars(built)["data_keys"] = keys
    keys.key_for_writing("athena")
    cache = AggregateCache()
    vars(built)["aggregate_cache"] = cache
    CommandHandler(built.registry, MemoryEventStore(), cache=cache).handle(
        CreateInvite(id=uuid4(), name="A"), as_host()
    )
    built.tips.remember({"pk": {"S": "Invitation#athena"}, "sk": {"N": "0"}})
    secret = built.claims_secret
    vars(secret)["_provider"] = object()  # as if fetched
    assert (len(keys), len(cache), len(built.tips), secret.fetched) == (1, 1, 1, True)
    # WHEN the runtime restores it
    snapstart.restored()
    # THEN nothing of it is left
    assert (len(keys), len(cache), len(built.tips), secret.fetched) == (0, 0, 0, False)


def test_a_restored_copy_draws_its_own_random_numbers(requests: list[str]) -> None:
    # Two copies of one snapshot share the generator's state: without a reseed they jitter their retries alike.
    random.seed(7)
    state = random.getstate()
    snapstart.restored()
    first = random.random()
    random.setstate(state)
    snapstart.restored()
    assert random.random() != first


def test_a_restored_client_opens_new_connections_and_still_answers(requests: list[str]) -> None:
    built = composition.container()
    client: Any = built.dynamodb  # its pool is botocore's, not in the stubs
    pool = client._endpoint.http_session._manager
    pool.connection_from_url(NOWHERE)  # a pooled connection, as a snapshot taken after a request would hold
    assert len(pool.pools) == 1

    snapstart.restored()

    assert len(pool.pools) == 0
    with pytest.raises(ConnectionRefusedError):
        client.get_item(TableName="events", Key={"pk": {"S": "x"}, "sk": {"N": "0"}})
    assert requests == [f"{NOWHERE}/"]
