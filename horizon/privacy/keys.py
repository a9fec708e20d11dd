"""The data-key port: one symmetric key per data subject, kept apart from the events, deletable on request."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from horizon.errors import HorizonError

KEY_BYTES = 32
"""AES-256-GCM."""


class SubjectForgotten(HorizonError):
    """New personal data for a subject whose key was deleted: refused, so forgetting stays final (answers 409)."""

    def __init__(self, subject: str, operation: str) -> None:
        super().__init__(f"{operation}: the personal data of {subject} was forgotten and cannot be written again")
        self.subject = subject
        self.operation = operation


class DataKeys(ABC):
    """Per-subject data keys: created on first write, read for every decryption, deleted to forget."""

    @abstractmethod
    def key_for_writing(self, subject: str) -> bytes:
        """The subject's key, created on first use; SubjectForgotten if the subject was forgotten."""

    @abstractmethod
    def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """Each subject's key, or None when it has none (never had one, or forgotten); one batch of reads."""

    @abstractmethod
    def forget(self, subject: str) -> None:
        """Delete the subject's key for good and remember that it was deleted; forgetting twice is a no-op."""
