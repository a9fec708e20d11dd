"""Imported once by the local stack's fork server, so each new execution environment starts warm.

Unlike the function modules, this module does its work at import time on purpose: every environment forked
afterwards inherits the imported modules, the built resolvers and botocore's parsed service models, so a
burst of requests that needs new environments waits milliseconds instead of seconds. Never imported on Lambda.
"""

from __future__ import annotations

import boto3

from functions import command_api, query_api
from functions.api import command_app, query_app

command_app()
query_app()
# Loads and caches DynamoDB's service model in boto3's default session; no connection is opened.
boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9")

__all__ = ["command_api", "query_api"]
