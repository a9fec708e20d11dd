"""AES-GCM over the personal fields of a payload, with the data subject's key.

A sealed field is a string `pii:v1:<base64 of nonce + ciphertext>`. The associated data binds it to its subject
and field, so a ciphertext copied into another aggregate or field does not decrypt. Without the key (the
subject was forgotten) a field reads as its marker's redacted value, never as an error.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from horizon.errors import HorizonError
from horizon.privacy.keys import DataKeys
from horizon.privacy.marking import personal_fields

PREFIX = "pii:v1:"
NONCE_BYTES = 12


class SealedDataCorrupt(HorizonError):
    """A sealed field failed authentication: tampered with, moved, or sealed under another key."""


def is_sealed(value: Any) -> bool:
    """True for a field value this module sealed."""
    return isinstance(value, str) and value.startswith(PREFIX)


class FieldCipher:
    """Seals and opens the personal fields of payloads for one DataKeys store."""

    def __init__(self, keys: DataKeys) -> None:
        self.keys = keys

    def seal(self, subject: str, model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `data` with every personal field of `model` that holds a value encrypted for `subject`."""
        fields = personal_fields(model)
        present = [name for name in fields if data.get(name) is not None and not is_sealed(data.get(name))]
        if not present:
            return dict(data)
        key = self.keys.key_for_writing(subject)
        sealed = dict(data)
        for name in present:
            sealed[name] = _encrypt(key, subject, name, data[name])
        return sealed

    def open(self, subject: str, model: type[BaseModel], data: Mapping[str, Any], key: bytes | None) -> dict[str, Any]:
        """A copy of `data` with its sealed fields decrypted with `key`, or redacted when `key` is None."""
        opened = dict(data)
        for name, marker in personal_fields(model).items():
            value = data.get(name)
            if isinstance(value, str) and is_sealed(value):
                opened[name] = marker.redacted if key is None else _decrypt(key, subject, name, value)
        return opened

    def seal_value(self, key: bytes, subject: str, field: str, value: Any) -> str:
        """One value sealed with `key`, bound to `subject` and `field`."""
        return _encrypt(key, subject, field, value)

    def open_value(self, key: bytes, subject: str, field: str, sealed: str) -> Any:
        """One value sealed by `seal_value`; SealedDataCorrupt if it does not authenticate."""
        return _decrypt(key, subject, field, sealed)

    def key_for(self, subject: str) -> bytes | None:
        """The key to open one subject's payloads with (None once forgotten)."""
        return self.keys.keys_for_reading([subject]).get(subject)


def _aad(subject: str, field: str) -> bytes:
    return f"{subject}|{field}".encode()


def _encrypt(key: bytes, subject: str, field: str, value: Any) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # lazy: only paid for personal data

    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(value, separators=(",", ":")).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(subject, field))
    return PREFIX + base64.b64encode(nonce + ciphertext).decode()


def _decrypt(key: bytes, subject: str, field: str, sealed: str) -> Any:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(sealed.removeprefix(PREFIX))
    try:
        plaintext = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(subject, field))
    except InvalidTag:
        raise SealedDataCorrupt(f"open {subject} field {field!r}: the sealed value does not authenticate") from None
    return json.loads(plaintext)
