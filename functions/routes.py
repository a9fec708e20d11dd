"""The split of the HTTP API between the two API functions, defined once for the functions, CDK and local runs.

POST /commands/{command_type} goes to the command function; every other request goes to the query function
(API Gateway's `$default` route), so a new query route needs no infrastructure change.
"""

from __future__ import annotations

from typing import Literal

COMMAND_METHOD = "POST"
COMMAND_PATH = "/commands/{command_type}"
COMMAND_PREFIX = COMMAND_PATH.split("{", 1)[0]

Function = Literal["command-api", "query-api"]


def function_for(method: str, path: str) -> Function:
    """The function API Gateway invokes for a request, by the HTTP API's route table."""
    if method == COMMAND_METHOD and path.startswith(COMMAND_PREFIX):
        return "command-api"
    return "query-api"
