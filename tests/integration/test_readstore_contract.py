"""The read-store contract, run against the in-memory store and the DynamoDB store (moto)."""

from __future__ import annotations

import pytest

from horizon.memory import MemoryReadStore
from horizon.readstore import ReadStore

from .readstore_contract import ReadStoreContract

KNOWN_BUG_EMPTY_CURSOR = pytest.mark.xfail(
    strict=True,
    raises=pytest.fail.Exception,
    reason=(
        "BUG horizon/memory/readstore.py _decode_cursor(): a cursor that decodes to '' (e.g. '' or '%%%') is "
        "accepted and lists from the start; the DynamoDB store raises InvalidCursor"
    ),
)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> ReadStore:
    if request.param == "memory":
        return MemoryReadStore()
    read_store: ReadStore = request.getfixturevalue("dynamodb_read_store")
    return read_store


class TestReadStoreContract(ReadStoreContract):
    """Every case of the contract, once per store."""

    @pytest.mark.parametrize("cursor", ["%%%", ""])
    @pytest.mark.parametrize("store", [pytest.param("memory", marks=KNOWN_BUG_EMPTY_CURSOR), "dynamodb"], indirect=True)
    def test_a_cursor_that_decodes_to_no_key_raises_invalid_cursor(self, store: ReadStore, cursor: str) -> None:
        super().test_a_cursor_that_decodes_to_no_key_raises_invalid_cursor(store, cursor)
