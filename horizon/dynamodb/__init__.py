"""DynamoDB adapters: the event store, the read store, table definitions and stream decoding."""

from horizon.dynamodb.eventstore import DynamoDBEventStore
from horizon.dynamodb.readstore import DynamoDBReadStore
from horizon.dynamodb.tables import create_tables

__all__ = ["DynamoDBEventStore", "DynamoDBReadStore", "create_tables"]
