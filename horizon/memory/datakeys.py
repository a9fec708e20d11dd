"""In-memory data keys, for unit tests and the in-memory stack."""

from __future__ import annotations

import os
from collections.abc import Iterable

from horizon.privacy.keys import KEY_BYTES, DataKeys, SubjectForgotten


class MemoryDataKeys(DataKeys):
    """Keys in a dict; a forgotten subject keeps a tombstone (None) so it can never get a new key."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}

    def key_for_writing(self, subject: str) -> bytes:
        """The subject's key, created on first use; SubjectForgotten if the subject was forgotten."""
        if subject not in self.keys:
            self.keys[subject] = os.urandom(KEY_BYTES)
        key = self.keys[subject]
        if key is None:
            raise SubjectForgotten(subject, "seal personal data")
        return key

    def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """Each subject's key, or None when it has none (never had one, or forgotten); one batch of reads."""
        return {subject: self.keys.get(subject) for subject in subjects}

    def forget(self, subject: str) -> None:
        """Delete the subject's key for good and remember that it was deleted; forgetting twice is a no-op."""
        self.keys[subject] = None
