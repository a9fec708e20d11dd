"""The contract every ReadStore adapter keeps, as a mixin: subclass it in a test module that provides `store`."""

from __future__ import annotations

import random

import pytest

from horizon.errors import BadRequest, ReadModelConflict
from horizon.readstore import Document, InvalidCursor, ReadStore, Write


def put(store: ReadStore, collection: str, key: str, body: dict[str, object], expected_revision: int = 0) -> None:
    store.commit([Write(collection, key, body, expected_revision)])


class ReadStoreContract:
    """Cases every read store must pass; the subclass supplies the `store` fixture."""

    def test_getting_a_missing_document_returns_none(self, store: ReadStore) -> None:
        assert store.get("views", "nobody") is None
        assert store.get_many([("views", "nobody"), ("other", "x")]) == {}

    def test_a_put_expecting_revision_0_creates_revision_1(self, store: ReadStore) -> None:
        body = {"name": "Zoë", "n": 1, "nested": {"l": [1, "two", None], "ok": True}}

        put(store, "views", "a", body)

        assert store.get("views", "a") == Document("views", "a", body, 1)

    def test_each_write_moves_the_revision_by_one(self, store: ReadStore) -> None:
        put(store, "views", "a", {"n": 1})
        put(store, "views", "a", {"n": 2}, expected_revision=1)
        put(store, "views", "a", {"n": 3}, expected_revision=2)

        assert store.get("views", "a") == Document("views", "a", {"n": 3}, 3)

    def test_a_ledger_is_kept_beside_the_body_until_a_write_without_one(self, store: ReadStore) -> None:
        ledger = {"Invitation#1": {"version": 2, "outbox": [{"type": "ConfirmInvite", "body": "{}"}]}}
        store.commit([Write("views", "a", {"n": 1}, 0, ledger=ledger)])

        assert store.get("views", "a") == Document("views", "a", {"n": 1}, 1, ledger=ledger)
        put(store, "views", "a", {"n": 2}, expected_revision=1)
        assert store.get("views", "a") == Document("views", "a", {"n": 2}, 2)

    def test_an_expiry_is_kept_beside_the_body_and_a_write_without_one_keeps_the_document_for_good(
        self, store: ReadStore
    ) -> None:
        store.commit([Write("views", "a", {"n": 1}, 0, expires=1_900_000_000)])
        assert store.get("views", "a") == Document("views", "a", {"n": 1}, 1, expires=1_900_000_000)
        store.commit([Write("views", "a", {"n": 2}, 1)])
        assert store.get("views", "a") == Document("views", "a", {"n": 2}, 2)

    def test_creating_a_document_that_exists_raises_read_model_conflict(self, store: ReadStore) -> None:
        put(store, "views", "a", {"n": 1})

        with pytest.raises(ReadModelConflict):
            put(store, "views", "a", {"n": 2})

        assert store.get("views", "a") == Document("views", "a", {"n": 1}, 1)

    def test_a_stale_revision_raises_read_model_conflict_and_writes_nothing(self, store: ReadStore) -> None:
        # GIVEN document a at revision 2 and document c at revision 1
        put(store, "views", "a", {"n": 1})
        put(store, "views", "a", {"n": 2}, expected_revision=1)
        put(store, "views", "c", {"n": 1})
        # WHEN one commit creates b, updates c and writes a from the stale revision 1
        writes = [
            Write("views", "b", {"n": 1}, 0),
            Write("views", "c", {"n": 2}, 1),
            Write("views", "a", {"n": 3}, 1),
        ]
        with pytest.raises(ReadModelConflict):
            store.commit(writes)
        # THEN no write happened: b is absent, a and c are untouched
        assert store.get("views", "b") is None
        assert store.get("views", "a") == Document("views", "a", {"n": 2}, 2)
        assert store.get("views", "c") == Document("views", "c", {"n": 1}, 1)

    def test_a_multi_write_commit_applies_every_write(self, store: ReadStore) -> None:
        put(store, "views", "a", {"n": 1})

        store.commit([Write("views", "a", {"n": 2}, 1), Write("tracking", "a", {"version": 7}, 0)])

        found = store.get_many([("views", "a"), ("tracking", "a"), ("views", "zzz")])
        assert found == {
            ("views", "a"): Document("views", "a", {"n": 2}, 2),
            ("tracking", "a"): Document("tracking", "a", {"version": 7}, 1),
        }

    def test_a_write_without_body_deletes_the_document(self, store: ReadStore) -> None:
        put(store, "views", "a", {"n": 1})

        store.commit([Write("views", "a", None, 1)])

        assert store.get("views", "a") is None
        put(store, "views", "a", {"n": 2})
        assert store.get("views", "a") == Document("views", "a", {"n": 2}, 1)

    def test_a_delete_at_a_stale_revision_raises_read_model_conflict(self, store: ReadStore) -> None:
        put(store, "views", "a", {"n": 1})
        put(store, "views", "a", {"n": 2}, expected_revision=1)

        with pytest.raises(ReadModelConflict):
            store.commit([Write("views", "a", None, 1)])

        assert store.get("views", "a") == Document("views", "a", {"n": 2}, 2)

    def test_changing_a_body_after_writing_or_reading_it_does_not_change_the_store(self, store: ReadStore) -> None:
        body: dict[str, object] = {"tags": ["a"]}
        put(store, "views", "a", body)
        body["tags"] = ["changed"]
        read = store.get("views", "a")
        assert read is not None
        read.body["tags"].append("mutated")

        assert store.get("views", "a") == Document("views", "a", {"tags": ["a"]}, 1)

    @pytest.mark.parametrize("count", [5, 4])
    def test_list_pages_through_a_collection_in_key_order(self, store: ReadStore, count: int) -> None:
        # GIVEN documents written in random order, and a neighbouring collection
        keys = [f"k{i}" for i in range(1, count + 1)]
        for key in random.sample(keys, len(keys)):
            put(store, "views", key, {"key": key})
        put(store, "views-other", "k0", {"key": "other"})
        put(store, "view", "k0", {"key": "other"})
        # WHEN listing two at a time, following cursors
        pages = [store.list("views", 2)]
        while pages[-1].cursor is not None:
            pages.append(store.list("views", 2, pages[-1].cursor))
        # THEN pages hold the keys in order, full pages first, and the last page has no cursor
        assert [[doc.key for doc in page.items] for page in pages] == [keys[i : i + 2] for i in range(0, count, 2)]
        assert all(doc.collection == "views" and doc.revision == 1 for page in pages for doc in page.items)

    def test_listing_an_empty_collection_returns_an_empty_last_page(self, store: ReadStore) -> None:
        page = store.list("nothing", 10)

        assert page.items == []
        assert page.cursor is None

    @pytest.mark.parametrize("cursor", ["not a cursor!", "____"])
    def test_a_garbage_cursor_raises_invalid_cursor(self, store: ReadStore, cursor: str) -> None:
        put(store, "views", "a", {"n": 1})

        with pytest.raises(InvalidCursor):
            store.list("views", 10, cursor)

    @pytest.mark.parametrize("cursor", ["%%%", ""])
    def test_a_cursor_that_decodes_to_no_key_raises_invalid_cursor(self, store: ReadStore, cursor: str) -> None:
        put(store, "views", "a", {"n": 1})

        with pytest.raises(InvalidCursor):
            store.list("views", 10, cursor)

    def test_a_page_size_below_one_is_a_bad_request(self, store: ReadStore) -> None:
        with pytest.raises(BadRequest):
            store.list("views", 0)
