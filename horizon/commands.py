"""Commands: strict pydantic models that name one aggregate by its `id`."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from horizon.authorization import INTERNAL, Audience


class Command(BaseModel):
    """An intent to change one aggregate; unknown fields and loose types are rejected.

    The model is strict so that `"42"` is not silently an age. The id alone is lax: JSON has no UUID type, so a
    UUID always arrives as a string.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    command_type: ClassVar[str] = ""
    # Who may send it. Internal unless the command says otherwise: forgetting to declare never opens a door.
    audience: ClassVar[Audience] = INTERNAL

    id: UUID = Field(strict=False, description="The id of the aggregate this command is for.")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The class name is the wire name unless a subclass chooses another one.
        if "command_type" not in cls.__dict__:
            cls.command_type = cls.__name__
