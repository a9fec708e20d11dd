"""The read-store contract, run against the in-memory store and the DynamoDB store (moto)."""

from __future__ import annotations

import pytest

from horizon.memory import MemoryReadStore
from horizon.readstore import ReadStore

from .readstore_contract import ReadStoreContract


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> ReadStore:
    if request.param == "memory":
        return MemoryReadStore()
    read_store: ReadStore = request.getfixturevalue("dynamodb_read_store")
    return read_store


class TestReadStoreContract(ReadStoreContract):
    """Every case of the contract, once per store."""
