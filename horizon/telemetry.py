"""Names of the metrics Horizon emits, shared by the code that emits them and the stack that alarms on them.

Powertools Metrics writes them as CloudWatch embedded metric format (EMF) under one namespace, with the
function's `service` as the dimension, so the CDK stack can name each metric without guessing.
"""

from __future__ import annotations

NAMESPACE = "Horizon"

COMMANDS_HANDLED = "CommandsHandled"
COMMANDS_REJECTED = "CommandsRejected"
COMMANDS_CONFLICTED = "CommandsConflicted"
COMMANDS_RETRIED = "CommandRetries"
EVENTS_PROJECTED = "EventsProjected"
SAGA_DECISIONS = "SagaDecisions"
DEAD_LETTERS = "DeadLetters"
CONSUMER_LAG = "ConsumerLagMs"
"""Milliseconds from a commit's timestamp to the moment a consumer finished with it."""
