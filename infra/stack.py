"""The Horizon stack: tables, functions, HTTP API and stream consumers, wired together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from functions import subscriptions
from horizon.redrive import DEAD_LETTERS_OUTPUT_SUFFIX
from infra.api import HttpApi
from infra.auth import TokenIssuer
from infra.catch_up import CatchUpMachine
from infra.functions import HorizonFunctions
from infra.monitoring import Monitoring
from infra.permissions import Resource
from infra.privacy import PersonalData
from infra.stage import Stage
from infra.streams import CommitConsumers
from infra.tables import EventStoreTables


class HorizonStack(Stack):
    """The guest-list reference deployment: everything the functions in functions/ need on AWS."""

    def __init__(
        self,
        scope: Construct,
        *,
        stage: Stage,
        guest_limit: int,
        jwt_issuer: str | None = None,
        jwt_audience: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, stage.stack_name, stack_name=stage.stack_name, **kwargs)
        self.stage = stage
        self.tokens = TokenIssuer(self, "Auth", stage=stage, issuer=jwt_issuer, audience=jwt_audience)
        self.tables = EventStoreTables(self, "Tables", stage=stage)
        self.personal = PersonalData(self, "PersonalData", stage=stage, table_key=self.tables.key)
        self.functions = HorizonFunctions(
            self, "Functions", tables=self.tables, guest_limit=guest_limit, stage=stage, personal=self.personal
        )
        self.http = HttpApi(
            self,
            "Http",
            command=self.functions.live["Command"],
            query=self.functions.live["Query"],
            stage=stage,
            authorizer=self.tokens.authorizer,
        )
        by_name = self.functions.by_name
        self.consumers = CommitConsumers(
            self,
            "Consumers",
            table=self.tables.events,
            readers={name: by_name[name] for name in subscriptions.STREAM_READERS},
            fanout=self.functions.fanout,
            live=self.functions.live,
        )
        for name in subscriptions.QUEUED:
            self.consumers.add_queued(name, by_name[name], subscriptions.reacts_to(name, guest_limit))
        stream = self.tables.events.table_stream_arn
        assert stream is not None, "the events table is streamed (infra/tables.py)"
        self.functions.grant_permissions(
            {
                Resource.EVENTS: self.tables.events.table_arn,
                Resource.EVENTS_STREAM: stream,
                Resource.READ: self.tables.read.table_arn,
                Resource.KEYS: self.personal.keys.table_arn,
                Resource.DATA_KEY_WRAPPER: self.personal.wrapper.key_arn,
                Resource.CLAIMS_SECRET: self.personal.claims_secret.secret_arn,
                Resource.FAILURES: self.consumers.failures.queue_arn,
                **({Resource.TABLE_KEY: self.tables.key.key_arn} if self.tables.key is not None else {}),
            },
            {name: queue.queue_arn for name, queue in self.consumers.queues.items()},
        )
        self.catch_up = CatchUpMachine(self, "CatchUp", function=self.functions.live["CatchUp"], stage=stage)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            functions=self.functions.by_name,
            stream_functions={name: by_name[name] for name in subscriptions.STREAM_READERS},
            queued_functions={name: by_name[name] for name in subscriptions.QUEUED},
            services=self.functions.services,
            api=self.http.api,
            failures=self.consumers.failures,
            dead_letters=self.consumers.dead_letters,
            queues=self.consumers.queues,
        )

        CfnOutput(self, "ApiUrl", value=self.http.url, description="Base URL of the HTTP API")
        CfnOutput(self, "EventsTableName", value=self.tables.events.table_name)
        CfnOutput(self, "ReadTableName", value=self.tables.read.table_name)
        CfnOutput(self, "KeysTableName", value=self.personal.keys.table_name)
        CfnOutput(self, "FailureQueueUrl", value=self.consumers.failures.queue_url)
        for name, queue in self.consumers.dead_letters.items():
            CfnOutput(self, f"{name}{DEAD_LETTERS_OUTPUT_SUFFIX}", value=queue.queue_url)
        CfnOutput(self, "CatchUpStateMachineArn", value=self.catch_up.state_machine.state_machine_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
