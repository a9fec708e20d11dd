"""The contract every DataKeys adapter keeps, as a mixin: subclass it in a test module that provides `keys`."""

from __future__ import annotations

import pytest

from horizon.privacy.keys import KEY_BYTES, DataKeys, SubjectForgotten


class DataKeysContract:
    def test_a_subject_gets_a_256_bit_key_on_its_first_write(self, keys: DataKeys) -> None:
        assert len(keys.key_for_writing("Invitation#1")) == KEY_BYTES

    def test_a_subject_keeps_its_key_across_writes_and_reads(self, keys: DataKeys) -> None:
        key = keys.key_for_writing("Invitation#1")
        assert keys.key_for_writing("Invitation#1") == key
        assert keys.keys_for_reading(["Invitation#1"]) == {"Invitation#1": key}

    def test_each_subject_has_its_own_key(self, keys: DataKeys) -> None:
        assert keys.key_for_writing("Invitation#1") != keys.key_for_writing("Invitation#2")

    def test_reading_a_subject_without_a_key_creates_none(self, keys: DataKeys) -> None:
        assert keys.keys_for_reading(["Invitation#never"]) == {"Invitation#never": None}
        assert keys.keys_for_reading(["Invitation#never"]) == {"Invitation#never": None}

    def test_a_batch_read_answers_every_subject_asked_for(self, keys: DataKeys) -> None:
        written = {f"Invitation#{n}": keys.key_for_writing(f"Invitation#{n}") for n in range(130)}
        asked = [*written, "Invitation#none"]
        assert keys.keys_for_reading(asked) == {**written, "Invitation#none": None}

    def test_a_forgotten_subject_has_no_key_and_can_never_get_one_again(self, keys: DataKeys) -> None:
        keys.key_for_writing("Invitation#1")
        keys.forget("Invitation#1")
        keys.forget("Invitation#1")
        assert keys.keys_for_reading(["Invitation#1"]) == {"Invitation#1": None}
        with pytest.raises(SubjectForgotten, match="Invitation#1"):
            keys.key_for_writing("Invitation#1")

    def test_forgetting_one_subject_leaves_the_others_readable(self, keys: DataKeys) -> None:
        kept = keys.key_for_writing("Invitation#2")
        keys.key_for_writing("Invitation#1")
        keys.forget("Invitation#1")
        assert keys.keys_for_reading(["Invitation#2"]) == {"Invitation#2": kept}
