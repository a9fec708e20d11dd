"""A stand-in for the Lambda context object, with the attributes Powertools reads."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalContext:
    """What Lambda passes as `context`, enough for Logger.inject_lambda_context and the batch utility."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """A well-formed ARN in the local account."""
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        """Always $LATEST locally."""
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the imitated timeout."""
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))
