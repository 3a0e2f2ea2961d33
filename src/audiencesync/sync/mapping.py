"""What one export sends of each member: the data mapping, as the sync plan reads it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["mirror", "add-only"]
MODES: tuple[Mode, ...] = ("mirror", "add-only")


@dataclass(frozen=True, slots=True)
class ExportMapping:
    """Profile columns behind the email, the userId, the dataFields and consent.

    ``fields`` maps Iterable field names to profile columns; only those fields
    ever leave. ``consent_column`` (BOOLEAN) drops profiles whose value is false
    or NULL. ``mode`` "add-only" never removes anyone from the list.
    """

    email_field: str
    user_id_field: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    consent_column: str | None = None
    mode: Mode = "mirror"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            msg = f"mode {self.mode!r} is not one of {', '.join(MODES)}"
            raise ValueError(msg)

    @property
    def columns(self) -> tuple[str, ...]:
        """The profile columns to evaluate the segment with, each once."""
        optional = (self.user_id_field, self.consent_column)
        names = [self.email_field, *(c for c in optional if c), *self.fields.values()]
        return tuple(dict.fromkeys(names))

    @property
    def is_mirror(self) -> bool:
        """Whether leavers are removed from the list."""
        return self.mode == "mirror"
