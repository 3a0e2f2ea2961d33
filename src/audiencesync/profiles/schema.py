"""Describe what the profile engine holds: tables, keys, row counts, columns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audiencesync.profiles.catalog import Table
    from audiencesync.profiles.engine import ProfileEngine


def describe(source: ProfileEngine | Path) -> tuple[Table, ...]:
    """The tables of an engine, or of the embedded store in a folder."""
    if not isinstance(source, Path):
        return source.catalog().tables
    from audiencesync.profiles.duckdb_engine import DuckDBEngine  # noqa: PLC0415 - DuckDB loads only when used

    with DuckDBEngine(source) as engine:
        return engine.catalog().tables


def table_as_dict(table: Table) -> dict[str, Any]:
    """A table as JSON-ready data with stable field names."""
    return {
        "name": table.name,
        "key": table.key,
        "rows": table.rows,
        "columns": [
            {"name": col.name, "kind": col.kind.value, "type": col.sql_type}
            for col in table.columns
        ],
    }
