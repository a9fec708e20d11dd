"""A tiny HTTP client for the end-to-end tests (stdlib HTTP) with a deadline-bound wait helper."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from horizon.local.auth import issue

T = TypeVar("T")

WAIT_SECONDS = 60.0
"""How long a wait for an eventual outcome may take before the test fails: a passing wait returns as soon as
the outcome shows, so only a failing test pays for a generous bound, and a loaded CI machine (2 cores, two
stacks and their pollers) is slower than a laptop by several times."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Client:
    def __init__(
        self, base_url: str, token: str | None = None, key: bytes = b"", tokens: Mapping[str, str] | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.key = key
        """The local stack's development signing key, to mint tokens for other roles (empty for a deployed one)."""
        self.tokens = dict(tokens or {})
        """A deployed stack's tokens by role (`hosts`, `guests`), as its user pool issued them."""

    def as_(self, token: str | None) -> Client:
        """The same stack with another bearer token (None: no Authorization header)."""
        return Client(self.base_url, token, self.key, self.tokens)

    def as_role(self, role: str, subject: str = "e2e-user") -> Client:
        """The same stack with a token of `role`: minted with the local key, or the deployed stack's own."""
        if self.key:
            return self.as_(issue(self.key, [role], subject=subject))
        if role not in self.tokens:
            raise AssertionError(f"no {role} token: set HORIZON_TOKEN_{role.upper().removesuffix('S')}")
        return self.as_(self.tokens[role])

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw, status, got = response.read(), response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            raw, status, got = error.read(), error.code, dict(error.headers)
        return Answer(status, got, json.loads(raw) if raw else None)

    def command(self, command_type: str, **fields: Any) -> Answer:
        return self.request("POST", f"/commands/{command_type}", fields)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def is_up(self) -> bool:
        try:
            return self.get("/health").status == 200
        except OSError:
            return False

    def wait_for(self, probe: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
        """Poll `probe` until it returns something truthy; fail with `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.05)
