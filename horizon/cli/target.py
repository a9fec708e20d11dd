"""Where the CLI reads from: the local stack's DynamoDB endpoint by default, or a deployed stack.

A deployed stack is reached with boto3's usual credential chain (environment, profile, SSO, role), never with
credentials of our own; the local endpoint gets dummy credentials so a developer's real ones never leave.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from horizon import resource_names

if TYPE_CHECKING:
    from horizon.consumers import TrackedConsumer
    from horizon.eventstore import EventStore
    from horizon.readstore import ReadStore
    from horizon.registry import Registry

DEFAULT_EVENTS_TABLE = resource_names.EVENTS_TABLE
DEFAULT_READ_TABLE = resource_names.READ_TABLE
DEFAULT_REGISTRY = "domain:build_registry"
DEFAULT_KEYS_TABLE = resource_names.KEYS_TABLE
DEFAULT_KMS_KEY = resource_names.KMS_KEY
LOCAL_REGION = "us-east-1"
EVENTS_TABLE_OUTPUT = "EventsTableName"
"""The CloudFormation output of the Horizon stack that names its events table (infra/stack.py)."""
READ_TABLE_OUTPUT = "ReadTableName"


class TargetError(Exception):
    """The target cannot be used: a stack without the events table output, a table without a stream."""


@dataclass(frozen=True)
class Target:
    """The resolved options: an endpoint (None: AWS), a table or a stack to find it in, a region."""

    endpoint_url: str | None
    events_table: str | None
    stack: str | None
    region: str | None
    registry: str = DEFAULT_REGISTRY
    read_table: str | None = None

    @classmethod
    def resolve(
        cls,
        environ: Mapping[str, str],
        *,
        endpoint_url: str | None = None,
        events_table: str | None = None,
        stack: str | None = None,
        region: str | None = None,
        registry: str | None = None,
        read_table: str | None = None,
    ) -> Target:
        """Without an endpoint, a table or a stack, the local stack's DynamoDB at 127.0.0.1:$DYNAMODB_PORT (8000)."""
        if endpoint_url is None and events_table is None and stack is None:
            endpoint_url = f"http://127.0.0.1:{environ.get('DYNAMODB_PORT') or '8000'}"
        return cls(endpoint_url, events_table, stack, region, registry or DEFAULT_REGISTRY, read_table)

    @property
    def is_local(self) -> bool:
        """True for an endpoint on this machine, which gets dummy credentials."""
        return self.endpoint_url is not None and self.endpoint_url.split("://")[-1].startswith(
            ("127.0.0.1", "localhost", "[::1]")
        )


class Connection:
    """Lazily built clients, table name, event store and registry for one CLI run."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def client(self, service: str) -> Any:
        """A boto3 client for `service` at the target."""
        import boto3

        # The service name is a runtime string; boto3-stubs only types literal names.
        make: Any = boto3.client
        if self.target.is_local:
            return make(
                service,
                endpoint_url=self.target.endpoint_url,
                region_name=self.target.region or LOCAL_REGION,
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
        return make(service, endpoint_url=self.target.endpoint_url, region_name=self.target.region)

    @cached_property
    def events_table(self) -> str:
        """The events table: given, read from the stack's outputs, or the local stack's default."""
        return self.target.events_table or self.output(EVENTS_TABLE_OUTPUT, DEFAULT_EVENTS_TABLE)

    @cached_property
    def read_table(self) -> str:
        """The read table (read models, saga state, positions): given, from the stack, or the local default."""
        return self.target.read_table or self.output(READ_TABLE_OUTPUT, DEFAULT_READ_TABLE)

    def output(self, name: str, default: str | None = None) -> str:
        """A CloudFormation output of the target stack (`default` without a stack)."""
        if not self.target.stack:
            if default is None:
                raise TargetError(f"{name} needs --stack")
            return default
        outputs = self.outputs()
        if name not in outputs:
            raise TargetError(f"stack {self.target.stack} has no {name} output")
        return outputs[name]

    def outputs(self) -> dict[str, str]:
        """Every CloudFormation output of the target stack, by key (none without a stack)."""
        if not self.target.stack:
            return {}
        stacks = self.client("cloudformation").describe_stacks(StackName=self.target.stack)["Stacks"]
        return {o["OutputKey"]: str(o["OutputValue"]) for s in stacks for o in s.get("Outputs", [])}

    @cached_property
    def dynamodb(self) -> Any:
        """The DynamoDB client."""
        return self.client("dynamodb")

    @cached_property
    def store(self) -> EventStore:
        """The event store over the events table; personal fields opened with the keys table and KMS key."""
        import os

        from horizon.dynamodb.datakeys import DynamoDBDataKeys
        from horizon.dynamodb.eventstore import DynamoDBEventStore
        from horizon.privacy.cipher import FieldCipher
        from horizon.privacy.sealing import Sealer, SealingEventStore

        # Keys are only read when an event holds sealed fields; forgotten subjects print redacted.
        keys_table = os.environ.get("KEYS_TABLE", DEFAULT_KEYS_TABLE)
        kms_key = os.environ.get("KMS_KEY_ID", DEFAULT_KMS_KEY)
        keys = DynamoDBDataKeys(self.dynamodb, self.client("kms"), keys_table, kms_key)
        sealer = Sealer(self.registry, FieldCipher(keys))
        return SealingEventStore(DynamoDBEventStore(self.dynamodb, self.events_table), sealer)

    @cached_property
    def reads(self) -> ReadStore:
        """The read store over the read table."""
        from horizon.dynamodb.readstore import DynamoDBReadStore

        return DynamoDBReadStore(self.dynamodb, self.read_table)

    def consumers(self, guest_limit: int) -> dict[str, TrackedConsumer]:
        """Every projector and saga the registry's module builds (build_projectors, build_sagas), by name."""
        from horizon.command_handler import CommandHandler
        from horizon.consumers import ProjectorRuntime, SagaRuntime

        module = importlib.import_module(self.target.registry.partition(":")[0])
        found: dict[str, TrackedConsumer] = {}
        for projector in getattr(module, "build_projectors", lambda _: [])(guest_limit):
            found[projector.name] = ProjectorRuntime(projector, self.registry, self.reads, self.store)
        handler = CommandHandler(self.registry, self.store)
        for saga in getattr(module, "build_sagas", lambda _: [])(guest_limit):
            found[saga.name] = SagaRuntime(saga, self.registry, self.reads, self.store, handler)
        return found

    @cached_property
    def registry(self) -> Registry:
        """The registry the `module:function` of `--registry` builds (the guest list by default)."""
        module, _, function = self.target.registry.partition(":")
        built: Registry = getattr(importlib.import_module(module), function or "build_registry")()
        return built
