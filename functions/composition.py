"""The composition root: every dependency of every function is built here, once, on first use.

Nothing is built at import time, so a cold start pays only for what its first request needs. Tests and the
local runtime install their own container with `use()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import UUID

from functions.settings import Settings as Settings  # re-exported: a container is built from it
from functions.settings import aws_client

if TYPE_CHECKING:
    from types import ModuleType

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_sqs import SQSClient

    from horizon.aggregate_cache import AggregateCache
    from horizon.command_handler import CommandHandler
    from horizon.consumers import ProjectorRuntime, SagaRuntime
    from horizon.dynamodb.datakeys import DynamoDBDataKeys
    from horizon.dynamodb.fanout import QueuePublisher
    from horizon.dynamodb.streams import BatchConsumer
    from horizon.dynamodb.tips import TipCache
    from horizon.events import Event
    from horizon.eventstore import EventStore
    from horizon.privacy.cache import CachedDataKeys
    from horizon.privacy.sealing import Sealer
    from horizon.projection import EventTypes
    from horizon.readstore import ReadStore
    from horizon.registry import Registry
    from horizon.secrets import FetchedSecret


class Container:
    """Lazily built dependencies; each property is built on first access and kept for the warm container."""

    def __init__(
        self,
        settings: Settings,
        client: DynamoDBClient | None = None,
        kms: KMSClient | None = None,
        *,
        domain: str = "domain",
        secrets: Any | None = None,
    ) -> None:
        self.settings = settings
        self._client = client
        self._kms = kms
        self._secrets = secrets
        """A boto3 `secretsmanager` client (tests inject a recording one); created on first claim otherwise."""
        self._domain = domain
        """The module whose build_registry, build_projectors and build_sagas compose the functions. Only the local
        stack passes another (functions/local.py, for tests); Settings never reads it from a Lambda's environment."""

    @cached_property
    def domain(self) -> ModuleType:
        """The domain module (`domain`)."""
        import importlib

        return importlib.import_module(self._domain)

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        """The DynamoDB client (injected in tests, created here on Lambda)."""
        if self._client is not None:
            return self._client
        client: DynamoDBClient = aws_client("dynamodb", self.settings)
        return client

    @cached_property
    def kms(self) -> KMSClient:
        """The KMS client that unwraps data keys; locally the data plane at the DynamoDB endpoint serves KMS too."""
        if self._kms is not None:
            return self._kms
        client: KMSClient = aws_client("kms", self.settings)
        return client

    @cached_property
    def claims_secret(self) -> FetchedSecret:
        """The claims' HMAC key from Secrets Manager, fetched on the first claim and kept SECRET_MAX_AGE_SECONDS.

        Locally the data plane at the DynamoDB endpoint serves Secrets Manager too.
        """
        from horizon.secrets import FetchedSecret

        def client() -> Any:
            return self._secrets if self._secrets is not None else aws_client("secretsmanager", self.settings)

        return FetchedSecret(client, self.settings.claims_secret_id)

    @cached_property
    def stored_keys(self) -> DynamoDBDataKeys:
        """Per-subject data keys in their table, wrapped by KMS."""
        from horizon.dynamodb.datakeys import DynamoDBDataKeys

        return DynamoDBDataKeys(self.dynamodb, self.kms, self.settings.keys_table, self.settings.kms_key_id)

    @cached_property
    def data_keys(self) -> CachedDataKeys:
        """The data keys, cached per warm container (60 s, bounded)."""
        from horizon.privacy.cache import CachedDataKeys

        return CachedDataKeys(self.stored_keys)

    @cached_property
    def sealer(self) -> Sealer:
        """Seals and opens the personal fields of the domain's events."""
        from horizon.privacy.cipher import FieldCipher
        from horizon.privacy.sealing import Sealer

        return Sealer(self.registry, FieldCipher(self.data_keys))

    @cached_property
    def registry(self) -> Registry:
        """The domain's commands and events."""
        built: Registry = self.domain.build_registry()
        return built

    @cached_property
    def stored_events(self) -> EventStore:
        """The DynamoDB event store as stored: personal fields sealed, unique claims taken with each commit."""
        from horizon.dynamodb.claims import DynamoDBClaimingEventStore

        return DynamoDBClaimingEventStore(self.dynamodb, self.settings.events_table, tips=self.tips)

    @cached_property
    def tips(self) -> TipCache:
        """The tips this container last read or wrote: a commit rewrites its tip whole from them."""
        from horizon.dynamodb.tips import TipCache

        return TipCache()

    @cached_property
    def event_store(self) -> EventStore:
        """The DynamoDB event store: personal fields sealed on the way in, opened on the way out; unique claims."""
        from horizon.privacy.sealing import SealingEventStore
        from horizon.uniqueness import Claimer

        claimer = Claimer(self.registry, self.claims_secret)
        return SealingEventStore(self.keyed_events, self.sealer, claimer)

    @cached_property
    def keyed_events(self) -> EventStore:
        """The stored events, whose cold head of a sealed aggregate reads its data key in the same request."""
        from horizon.dynamodb.keyed_heads import KeyedHeadsEventStore

        personal = self.sealer.personal_aggregates
        return KeyedHeadsEventStore(
            self.dynamodb,
            self.settings.events_table,
            keys=self.stored_keys,
            cache=self.data_keys,
            personal=personal,
            tips=self.tips,
        )

    def load_sealed(self, aggregate_type: str, aggregate_id: UUID, first: int, last: int) -> list[Event]:
        """Versions first..last of one aggregate as stored, sealed like a stream record's (a commit sent by pointer)."""
        events = self.stored_events.load(aggregate_type, aggregate_id, first - 1)
        return [event for event in events if event.version <= last]

    def consume(
        self, event: dict[str, Any], context: Any, consumers: Sequence[BatchConsumer], counted_as: str | None = None
    ) -> dict[str, list[dict[str, str]]]:
        """A stream or fan-out queue batch fed to `consumers`: sealed fields opened, pointed-to commits loaded."""
        from horizon.dynamodb.streams import process_stream_batch

        return process_stream_batch(
            event, context, consumers, counted_as=counted_as, opener=self.sealer.open_commits, load=self.load_sealed
        )

    @cached_property
    def sqs(self) -> SQSClient:
        """The SQS client of the fan-out."""
        client: SQSClient = aws_client("sqs", self.settings)
        return client

    @cached_property
    def fanout(self) -> QueuePublisher:
        """Sends the stream's commits to each queued consumer's queue that reacts to them (FANOUT_QUEUES)."""
        from horizon.dynamodb.fanout import QueuePublisher
        from horizon.dynamodb.routes import routes_of

        return QueuePublisher(self.sqs, routes_of(self.settings.fanout_queues))

    @property
    def fanout_publishes(self) -> EventTypes:
        """The event types some queued consumer reacts to (None: every type): what the dispatcher sends at all."""
        return self.fanout.publishes

    @cached_property
    def read_store(self) -> ReadStore:
        """The DynamoDB read store (read models, saga state, tracking)."""
        from horizon.dynamodb.readstore import DynamoDBReadStore

        return DynamoDBReadStore(self.dynamodb, self.settings.read_table)

    @cached_property
    def aggregate_cache(self) -> AggregateCache:
        """The warm container's aggregates; decrypted state lives here at most as long as a data key does."""
        from horizon.aggregate_cache import AggregateCache

        return AggregateCache(ttl_seconds=DECRYPTED_TTL_SECONDS)

    @cached_property
    def command_handler(self) -> CommandHandler:
        """Command handling over the event store, with a warm aggregate cache kept for the container's life."""
        from horizon.command_handler import CommandHandler

        return CommandHandler(self.registry, self.event_store, cache=self.aggregate_cache)

    @cached_property
    def projectors(self) -> list[ProjectorRuntime]:
        """One runtime per projector of the domain."""
        from horizon.consumers import ProjectorRuntime

        return [
            ProjectorRuntime(p, self.registry, self.read_store, self.event_store)
            for p in self.domain.build_projectors(self.settings.guest_limit)
        ]

    @cached_property
    def sagas(self) -> list[SagaRuntime]:
        """One runtime per saga of the domain."""
        from horizon.consumers import SagaRuntime

        return [
            SagaRuntime(s, self.registry, self.read_store, self.event_store, self.command_handler)
            for s in self.domain.build_sagas(self.settings.guest_limit)
        ]

    def restored(self) -> None:
        """After a SnapStart restore: no cached data and no pooled connection survives from the snapshot.

        Priming fills neither cache nor pool, so this only guarantees it: a restored copy never reuses another
        copy's connection, and a cache entry's age (time.monotonic) means nothing across a restore.
        """
        built = self.__dict__
        for name in ("dynamodb", "kms", "sqs"):
            if name in built:
                built[name].close()  # botocore opens a new pool on the next request
        if "aggregate_cache" in built:
            self.aggregate_cache.clear()
        if "tips" in built:
            self.tips.clear()
        if "data_keys" in built:
            self.data_keys.clear()
        if "stored_keys" in built:
            self.stored_keys.branches.clear()
        if "claims_secret" in built:
            self.claims_secret.forget()


DECRYPTED_TTL_SECONDS = 60.0
"""How long a warm container keeps a data key or an aggregate's decrypted state after reading it."""

_current: Container | None = None


def container() -> Container:
    """The process-wide container, built from the environment on first call."""
    global _current
    if _current is None:
        _current = Container(Settings.from_env())
    return _current


def use(replacement: Container | None) -> None:
    """Install a container (tests, the local runtime), or None to rebuild from the environment next time."""
    global _current
    _current = replacement
