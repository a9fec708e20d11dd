"""Personal fields sealed per subject: round trips, redaction after forgetting, authentication, key lifetime."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from pydantic import BaseModel

from horizon.memory.datakeys import MemoryDataKeys
from horizon.privacy.cache import CachedDataKeys
from horizon.privacy.cipher import FieldCipher, SealedDataCorrupt, is_sealed
from horizon.privacy.keys import SubjectForgotten
from horizon.privacy.marking import REDACTED, Personal, personal_fields, subject_of


class Registered(BaseModel):
    name: Annotated[str, Personal()]
    age: Annotated[int | None, Personal(redacted=None)] = None
    team: str = "blue"


SUBJECT = subject_of("Member", "m-1")


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(MemoryDataKeys())


def test_personal_fields_are_found_with_their_redacted_values() -> None:
    assert personal_fields(Registered) == {"name": Personal(REDACTED), "age": Personal(None)}


def test_sealing_encrypts_personal_fields_only_and_opening_restores_them(cipher: FieldCipher) -> None:
    data = {"name": "Athena", "age": 42, "team": "blue"}
    sealed = cipher.seal(SUBJECT, Registered, data)
    assert sealed["team"] == "blue"
    assert is_sealed(sealed["name"])
    assert is_sealed(sealed["age"])
    assert "Athena" not in json.dumps(sealed)
    assert cipher.open(SUBJECT, Registered, sealed, cipher.key_for(SUBJECT)) == data


def test_empty_personal_fields_stay_empty_and_need_no_key(cipher: FieldCipher) -> None:
    keys = cipher.keys
    assert isinstance(keys, MemoryDataKeys)
    assert cipher.seal(SUBJECT, Registered, {"name": None, "team": "red"}) == {"name": None, "team": "red"}
    assert keys.keys == {}


def test_each_seal_uses_a_fresh_nonce(cipher: FieldCipher) -> None:
    first = cipher.seal(SUBJECT, Registered, {"name": "Athena"})
    second = cipher.seal(SUBJECT, Registered, {"name": "Athena"})
    assert first["name"] != second["name"]


def test_a_forgotten_subject_reads_as_redacted_and_still_validates(cipher: FieldCipher) -> None:
    sealed = cipher.seal(SUBJECT, Registered, {"name": "Athena", "age": 42})
    cipher.keys.forget(SUBJECT)
    opened = cipher.open(SUBJECT, Registered, sealed, cipher.key_for(SUBJECT))
    assert opened == {"name": REDACTED, "age": None}
    assert Registered.model_validate(opened).name == REDACTED


def test_a_forgotten_subject_cannot_be_given_new_personal_data(cipher: FieldCipher) -> None:
    cipher.seal(SUBJECT, Registered, {"name": "Athena"})
    cipher.keys.forget(SUBJECT)
    with pytest.raises(SubjectForgotten):
        cipher.seal(SUBJECT, Registered, {"name": "Athena again"})


def test_a_sealed_value_moved_to_another_subject_or_field_does_not_open(cipher: FieldCipher) -> None:
    sealed = cipher.seal(SUBJECT, Registered, {"name": "Athena", "age": 42})
    other = subject_of("Member", "m-2")
    cipher.seal(other, Registered, {"name": "Hades"})
    with pytest.raises(SealedDataCorrupt, match="name"):
        cipher.open(other, Registered, {"name": sealed["name"]}, cipher.key_for(other))
    with pytest.raises(SealedDataCorrupt, match="age"):
        cipher.open(SUBJECT, Registered, {"age": sealed["name"]}, cipher.key_for(SUBJECT))


class CountingKeys(MemoryDataKeys):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def keys_for_reading(self, subjects):
        self.reads += 1
        return super().keys_for_reading(subjects)


def test_cached_keys_are_read_once_until_they_age_out() -> None:
    inner, now = CountingKeys(), [0.0]
    keys = CachedDataKeys(inner, ttl_seconds=60, clock=lambda: now[0])
    inner.key_for_writing(SUBJECT)
    keys.keys_for_reading([SUBJECT])
    keys.keys_for_reading([SUBJECT])
    assert inner.reads == 1
    now[0] = 61
    keys.keys_for_reading([SUBJECT])
    assert inner.reads == 2


def test_a_forget_elsewhere_reaches_a_warm_cache_within_its_ttl() -> None:
    inner, now = CountingKeys(), [0.0]
    keys = CachedDataKeys(inner, ttl_seconds=60, clock=lambda: now[0])
    inner.key_for_writing(SUBJECT)
    assert keys.keys_for_reading([SUBJECT])[SUBJECT] is not None
    inner.forget(SUBJECT)  # another container forgets
    now[0] = 59.5
    assert keys.keys_for_reading([SUBJECT])[SUBJECT] is not None  # still within the documented bound
    now[0] = 61
    assert keys.keys_for_reading([SUBJECT]) == {SUBJECT: None}


def test_a_local_forget_drops_the_cached_key_at_once() -> None:
    keys = CachedDataKeys(MemoryDataKeys())
    keys.key_for_writing(SUBJECT)
    keys.forget(SUBJECT)
    assert keys.keys_for_reading([SUBJECT]) == {SUBJECT: None}


def test_the_cache_holds_at_most_max_keys() -> None:
    inner = CountingKeys()
    keys = CachedDataKeys(inner, max_keys=2)
    for n in range(3):
        keys.key_for_writing(f"s{n}")
    inner.reads = 0
    keys.keys_for_reading(["s2", "s1"])
    assert inner.reads == 0
    keys.keys_for_reading(["s0"])
    assert inner.reads == 1
