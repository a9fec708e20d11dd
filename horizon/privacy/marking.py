"""Marking personal fields in event models: `name: Annotated[str, Personal(redacted="(forgotten)")]`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

REDACTED = "(forgotten)"
"""What a personal text field reads as once its data subject is forgotten."""


@dataclass(frozen=True)
class Personal:
    """Marks a model field as personal data; `redacted` is the value it reads as once forgotten.

    The redacted value must be valid for the field (text fields take REDACTED, optional fields None), so a
    forgotten subject's events still validate, replay and project.
    """

    redacted: Any = REDACTED


def personal_fields(model: type[BaseModel]) -> dict[str, Personal]:
    """The personal fields of a model, by field name, with their markers."""
    found: dict[str, Personal] = {}
    for name, field in model.model_fields.items():
        for marker in field.metadata:
            if isinstance(marker, Personal):
                found[name] = marker
    return found


def subject_of(aggregate_type: str, aggregate_id: object) -> str:
    """The data subject of an aggregate's personal data: one subject (and one key) per aggregate by default."""
    return f"{aggregate_type}#{aggregate_id}"
