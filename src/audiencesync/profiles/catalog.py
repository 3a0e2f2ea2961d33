"""What a profile engine holds: tables, their columns, kinds and keys.

The catalog is plain data. Segment validation and compilation read it to check
columns and types; the engines build it from their own metadata.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ColumnKind(enum.StrEnum):
    """The few kinds of value a segment condition reasons about."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    OTHER = "other"

    @property
    def is_numeric(self) -> bool:
        """Integers and other numbers compare with each other."""
        return self in {ColumnKind.INTEGER, ColumnKind.NUMBER}

    @property
    def is_temporal(self) -> bool:
        """Dates and timestamps take ``in_last_days``, ``before`` and ``after``."""
        return self in {ColumnKind.DATE, ColumnKind.TIMESTAMP}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its exact name, its kind and the engine's own type name."""

    name: str
    kind: ColumnKind
    sql_type: str


@dataclass(frozen=True, slots=True)
class Table:
    """One table of an engine; ``key`` is its profile key column when known."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = None
    rows: int | None = None

    def column(self, name: str) -> Column | None:
        """The column called exactly ``name``, if any."""
        return next((col for col in self.columns if col.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in table order."""
        return tuple(col.name for col in self.columns)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The tables an engine offers, and which one holds the profiles."""

    tables: tuple[Table, ...]
    profile_table: str

    def table(self, name: str) -> Table | None:
        """The table called exactly ``name``, if any."""
        return next((tab for tab in self.tables if tab.name == name), None)

    @property
    def profile(self) -> Table | None:
        """The profile table, or ``None`` before any profiles exist."""
        return self.table(self.profile_table)
