"""The names a deployment uses when its environment names nothing else: the local stack's, and the CLI's defaults.

On AWS every function gets the stack's real names in its environment (infra/functions.py); these are only the
fallbacks, defined once for the composition root, the local stack and the CLI.
"""

EVENTS_TABLE = "horizon-events"
READ_TABLE = "horizon-read"
KEYS_TABLE = "horizon-keys"
KMS_KEY = "alias/horizon-data-keys"
CLAIMS_SECRET = "horizon-claims-secret"
