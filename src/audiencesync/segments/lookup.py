"""Finding tables and columns in the catalog, with helpful suggestions."""

from __future__ import annotations

from collections.abc import Sequence

from audiencesync.core.suggest import closest, listed
from audiencesync.errors import RuleError
from audiencesync.profiles.catalog import Catalog, Column, Table


def profile_of(catalog: Catalog) -> tuple[Table, str]:
    """The profile table, which must exist, and its key column."""
    table = catalog.profile
    if table is None:
        msg = (
            f"There is no profile table {catalog.profile_table} yet: import"
            " profiles first."
        )
        raise RuleError(
            msg, code="no_profile_table", details={"table": catalog.profile_table}
        )
    if table.key is None or table.column(table.key) is None:
        msg = (
            f"The profile table {table.name} has no key column: import it again"
            " with a key column (the column that identifies each profile)."
        )
        raise RuleError(msg, code="no_key_column", details={"table": table.name})
    return table, table.key


def table_of(catalog: Catalog, name: str) -> Table:
    """The table called ``name``, or a RuleError naming the closest one."""
    table = catalog.table(name)
    if table is not None:
        return table
    names = [tab.name for tab in catalog.tables]
    hint = _did_you_mean(name, names)
    msg = f'Unknown table "{name}".{hint} (tables: {listed(names)})'
    raise RuleError(msg, code="unknown_table", details={"table": name})


def column_of(table: Table, name: str) -> Column:
    """The column called exactly ``name`` in ``table``, or a helpful RuleError."""
    column = table.column(name)
    if column is not None:
        return column
    names = table.column_names
    msg = (
        f'Unknown column "{name}" in table {table.name}.{_did_you_mean(name, names)}'
        f" (columns: {listed(names)})"
    )
    raise RuleError(
        msg, code="unknown_column", details={"table": table.name, "column": name}
    )


def join_key_of(table: Table, profile_key: str) -> str:
    """The column of ``table`` holding the profile key (``profile_key``) of a row."""
    if table.key is not None and table.column(table.key) is not None:
        return table.key
    if table.column(profile_key) is not None:
        return profile_key
    msg = (
        f"Table {table.name} has no column linking its rows to profiles: it needs"
        f" a column named {profile_key} (the profile key) or a key chosen on"
        f" import. Import it again with its key column, e.g. {profile_key}."
    )
    raise RuleError(
        msg, code="no_join_key", details={"table": table.name, "key": profile_key}
    )


def _did_you_mean(name: str, names: Sequence[str]) -> str:
    close = closest(name, names)
    return f' Did you mean "{close}"?' if close else ""
