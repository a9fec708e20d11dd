"""A warm container's data keys: bounded in number and in age, so a forget reaches every container in time.

A key read once serves later decryptions for `ttl_seconds` at most; after that it is read again, and a subject
forgotten meanwhile (by any container) reads as forgotten. docs/privacy.md states the bound.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from horizon.privacy.keys import DataKeys

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_MAX_KEYS = 1024


class CachedDataKeys(DataKeys):
    """DataKeys in front of another DataKeys, keeping each key at most `ttl_seconds` and `max_keys` keys."""

    def __init__(
        self,
        inner: DataKeys,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._max = max_keys
        self._clock = clock
        self._keys: OrderedDict[str, tuple[float, bytes | None]] = OrderedDict()

    def key_for_writing(self, subject: str) -> bytes:
        """The subject's key, created on first use; SubjectForgotten if the subject was forgotten."""
        cached = self._fresh(subject)
        if cached is not None:
            return cached
        key = self._inner.key_for_writing(subject)
        self._remember(subject, key)
        return key

    def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """Each subject's key, or None when it has none (never had one, or forgotten); one batch of reads."""
        wanted = list(dict.fromkeys(subjects))
        found = {s: self._fresh(s) for s in wanted}
        missing = [s for s, key in found.items() if key is None]
        if missing:
            for subject, key in self._inner.keys_for_reading(missing).items():
                found[subject] = key
                if key is not None:
                    self._remember(subject, key)
        return found

    def forget(self, subject: str) -> None:
        """Delete the subject's key for good and remember that it was deleted; forgetting twice is a no-op."""
        self._keys.pop(subject, None)
        self._inner.forget(subject)

    def holds(self, subject: str) -> bool:
        """True when the subject's key is in the cache and fresh: reading it would cost no request."""
        return self._fresh(subject) is not None

    def prime(self, subject: str, key: bytes | None) -> None:
        """Keep a key read along with something else (horizon/dynamodb/keyed_heads.py); None keeps nothing."""
        if key is not None:
            self._remember(subject, key)

    def clear(self) -> None:
        """Drop every cached key (after a SnapStart restore: an entry's age means nothing across one)."""
        self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)

    def _fresh(self, subject: str) -> bytes | None:
        entry = self._keys.get(subject)
        if entry is None:
            return None
        stored_at, key = entry
        if self._clock() - stored_at > self._ttl:
            del self._keys[subject]
            return None
        self._keys.move_to_end(subject)
        return key

    def _remember(self, subject: str, key: bytes) -> None:
        self._keys[subject] = (self._clock(), key)
        self._keys.move_to_end(subject)
        while len(self._keys) > self._max:
            self._keys.popitem(last=False)
