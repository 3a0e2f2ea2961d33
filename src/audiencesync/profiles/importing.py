"""Import a CSV, Parquet or JSON lines file into a table of the embedded store.

The key column is ``--key``, else the table's existing key, else ``customer_id``
when the file has one. In the profile table every key is present and unique; in
other tables (``purchases``) the key joins to the profile key, must be present
and may repeat.

Into an existing table, without ``replace``, the profile table is merged by key
(new keys added, existing keys' rows replaced) and other tables get the rows
appended; the columns must match the table's. With ``replace`` the table is
replaced whole. Either way the new file is written beside the old one and moved
into place, so a failed import leaves the table exactly as it was. The table
records its sources in order: a replace starts the list afresh, a merge or an
append adds to it (see :mod:`audiencesync.profiles.refreshing`).
"""

from __future__ import annotations

import enum
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from audiencesync.errors import SourceError
from audiencesync.profiles.catalog import ColumnKind
from audiencesync.profiles.duckdb_engine import connect_duckdb, kind_of
from audiencesync.profiles.identifiers import (
    check_table_name,
    quote_identifier,
    quote_literal,
)
from audiencesync.profiles.sources import (
    INCOMING,
    SourceColumn,
    check_readable,
    load_source,
    source_format,
)
from audiencesync.profiles.tables import (
    SourceMode,
    SourceStamp,
    TableInfo,
    TableSource,
    parquet_options,
    read_table_info,
    replacing,
    table_metadata,
    table_path,
    unreadable_table,
    writer_lock,
)
from audiencesync.settings import DEFAULT_PROFILE_TABLE

DEFAULT_KEY = "customer_id"
SHOWN_KEYS = 5
SHOWN_COLUMNS = 20
_REPLACE_HINT = "import it in replace mode to change the table's columns"


class ImportMode(enum.StrEnum):
    """What an import did to its table."""

    CREATED = "created"
    REPLACED = "replaced"
    MERGED = "merged"
    APPENDED = "appended"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """One import: the table's rows now, and what the file added or changed."""

    table: str
    rows: int
    rows_added: int
    rows_updated: int
    columns: tuple[str, ...]
    key: str
    source: Path
    mode: ImportMode


@dataclass(frozen=True, slots=True)
class _Existing:
    info: TableInfo
    columns: tuple[SourceColumn, ...]


def import_file(
    folder: Path,
    path: Path,
    *,
    table: str = DEFAULT_PROFILE_TABLE,
    key: str | None = None,
    replace: bool = False,
    profile_table: str = DEFAULT_PROFILE_TABLE,
) -> ImportReport:
    """Import ``path`` into ``table`` of the store in ``folder``."""
    check_table_name(table)
    source_format(path)
    check_readable(path)
    stamp = SourceStamp.of(path)
    target = table_path(folder, table)
    with writer_lock(folder), closing(connect_duckdb()) as connection:
        existing = None if replace else _existing(connection, folder, table)
        text_columns = [] if existing is None else _text_columns(existing)
        columns = load_source(connection, path, text_columns=text_columns)
        chosen = choose_key(
            [column.name for column in columns],
            key=key,
            existing_key=None if existing is None else existing.info.key,
            source=path.name,
            table=table,
        )
        check_keys(
            connection,
            chosen,
            unique=table == profile_table,
            source=path.name,
            table=table,
        )
        if existing is None:
            mode = ImportMode.REPLACED if target.exists() else ImportMode.CREATED
            select, updated = f"SELECT * FROM {INCOMING}", 0
        else:
            check_columns(connection, columns, existing.columns, table, path.name)
            merge = table == profile_table
            mode = ImportMode.MERGED if merge else ImportMode.APPENDED
            select = _combined(existing, chosen, merge=merge)
            updated = _updated(connection, existing, chosen) if merge else 0
        incoming = _row_count(connection)
        metadata = table_metadata(
            key=chosen,
            sources=_sources_after(existing, TableSource(stamp, _MODES[mode], chosen)),
            imported_at=datetime.now(UTC),
        )
        _write(connection, select, target, metadata, table=table, source=path.name)
    return ImportReport(
        table=table,
        rows=read_table_info(folder, table).rows,
        rows_added=incoming - updated,
        rows_updated=updated,
        columns=tuple(column.name for column in columns),
        key=chosen,
        source=path,
        mode=mode,
    )


def choose_key(
    columns: list[str],
    *,
    key: str | None,
    existing_key: str | None,
    source: str,
    table: str,
) -> str:
    """``key``, else the table's key, else ``customer_id``; it must be a column."""
    found = _listed(columns)
    if key is not None and existing_key is not None and key != existing_key:
        msg = (
            f"Table {table} is keyed by {existing_key}, not {key}. Import with key"
            f" {existing_key}, or in replace mode to change the key."
        )
        raise SourceError(
            msg,
            code="key_mismatch",
            field="key",
            details={"table": table, "key": existing_key},
        )
    chosen = key or existing_key
    if chosen is not None and chosen not in columns:
        msg = (
            f"Key column {chosen} is not in {source}; its columns are: {found}."
            " Add the column, or choose one of these as the key."
        )
        raise SourceError(
            msg, code="key_column_missing", field="key", details={"key": chosen}
        )
    if chosen is None and DEFAULT_KEY not in columns:
        msg = (
            f"{source} has no {DEFAULT_KEY} column to use as the key; its columns"
            f" are: {found}. Choose the key column."
        )
        raise SourceError(msg, code="key_column_needed", field="key")
    return chosen or DEFAULT_KEY


def check_keys(
    connection: duckdb.DuckDBPyConnection,
    key: str,
    *,
    unique: bool,
    source: str,
    table: str,
) -> None:
    """Every row of ``incoming`` has a key; in the profile table, a unique one."""
    column = quote_identifier(key)
    blank = f"{column} IS NULL OR trim(CAST({column} AS VARCHAR)) = ''"
    missing = _scalar(connection, f"SELECT count(*) FROM {INCOMING} WHERE {blank}")
    if missing:
        records = _column(
            connection,
            f"SELECT rowid + 1 FROM {INCOMING} WHERE {blank}"
            f" ORDER BY rowid LIMIT {SHOWN_KEYS}",
        )
        has = "has" if missing == 1 else "have"
        msg = (
            f"{_counted(missing, 'record')} of {source} {has} no {key}"
            f" ({_records(records, missing)}). Every record needs a {key}: fill it"
            " in or remove the record, and import again."
        )
        raise SourceError(msg)
    if unique:
        _check_unique(connection, key, source=source, table=table)


def check_columns(
    connection: duckdb.DuckDBPyConnection,
    new: tuple[SourceColumn, ...],
    old: tuple[SourceColumn, ...],
    table: str,
    source: str,
) -> None:
    """The file has the table's columns, no others, and types that fit."""
    new_types = {column.name: column.type for column in new}
    old_names = [column.name for column in old]
    missing = [name for name in old_names if name not in new_types]
    if missing:
        msg = (
            f"{source} lacks columns of table {table}: {_listed(missing)}. Add them"
            f" to the file, or {_REPLACE_HINT}."
        )
        details = {"table": table, "missing": missing}
        raise SourceError(msg, code="columns_differ", field="replace", details=details)
    extra = [column.name for column in new if column.name not in old_names]
    if extra:
        msg = (
            f"{source} has columns that table {table} does not: {_listed(extra)}."
            f" Remove them from the file, or {_REPLACE_HINT}."
        )
        details = {"table": table, "extra": extra}
        raise SourceError(msg, code="columns_differ", field="replace", details=details)
    changed = [column for column in old if new_types[column.name] != column.type]
    empty = _empty_columns(connection, [column.name for column in changed])
    for column in changed:
        if column.name not in empty and not fits(column.type, new_types[column.name]):
            msg = (
                f"Column {column.name} was {column.type} in table {table} and is"
                f" {new_types[column.name]} in {source}. Fix the file, or"
                f" {_REPLACE_HINT}."
            )
            details = {"table": table, "column": column.name,
                       "was": column.type, "now": new_types[column.name]}  # fmt: skip
            raise SourceError(
                msg, code="columns_differ", field="replace", details=details
            )


def fits(old_type: str, new_type: str) -> bool:
    """True when values of ``new_type`` can be stored as ``old_type`` unchanged."""
    old, new = kind_of(old_type), kind_of(new_type)
    if old is ColumnKind.NUMBER and new is ColumnKind.INTEGER:
        return True
    return old is new and old is not ColumnKind.OTHER


# --- helpers -------------------------------------------------------------------

_MODES = {
    ImportMode.CREATED: SourceMode.REPLACE,
    ImportMode.REPLACED: SourceMode.REPLACE,
    ImportMode.MERGED: SourceMode.MERGE,
    ImportMode.APPENDED: SourceMode.APPEND,
}


def _sources_after(
    existing: _Existing | None, source: TableSource
) -> tuple[TableSource, ...]:
    """A replace starts the table's sources; a merge or append is layered on."""
    if existing is None:
        return (source,)
    return (*existing.info.sources, source)


def _existing(
    connection: duckdb.DuckDBPyConnection, folder: Path, table: str
) -> _Existing | None:
    path = table_path(folder, table)
    if not path.exists():
        return None
    info = read_table_info(folder, table)
    try:
        described = connection.execute(
            f"DESCRIBE SELECT * FROM read_parquet({quote_literal(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise unreadable_table(path) from exc
    columns = tuple(SourceColumn(str(row[0]), str(row[1])) for row in described)
    return _Existing(info, columns)


def _text_columns(existing: _Existing) -> list[str]:
    return [
        col.name for col in existing.columns if kind_of(col.type) is ColumnKind.TEXT
    ]


def _check_unique(
    connection: duckdb.DuckDBPyConnection, key: str, *, source: str, table: str
) -> None:
    column = quote_identifier(key)
    repeated = f"FROM {INCOMING} GROUP BY {column} HAVING count(*) > 1"
    count = _scalar(connection, f"SELECT count(*) FROM (SELECT 1 {repeated})")
    if not count:
        return
    rows = connection.execute(
        f"SELECT CAST({column} AS VARCHAR), min(rowid) + 1 {repeated}"
        f" ORDER BY min(rowid) LIMIT {SHOWN_KEYS}"
    ).fetchall()
    values = [str(row[0]) for row in rows]
    if any("@" in value for value in values):  # an email key: show no values
        shown = "first at " + _records([int(row[1]) for row in rows], count)
    else:
        shown = ", ".join(values) + (", ..." if count > len(values) else "")
    noun = f"{key} value appears" if count == 1 else f"{key} values appear"
    msg = (
        f"{count} {noun} more than once in {source} ({shown}). Table {table} holds"
        f" one row per {key}: remove the duplicates and import again."
    )
    raise SourceError(msg)


def _empty_columns(connection: duckdb.DuckDBPyConnection, names: list[str]) -> set[str]:
    """Which of ``names`` hold no value at all in ``incoming``."""
    if not names:
        return set()
    counts = ", ".join(f"count({quote_identifier(name)})" for name in names)
    row = connection.execute(f"SELECT {counts} FROM {INCOMING}").fetchall()[0]
    return {name for name, count in zip(names, row, strict=True) if count == 0}


def _combined(existing: _Existing, key: str, *, merge: bool) -> str:
    """The new table: old rows (less those replaced, when merging), then new."""
    old = f"read_parquet({quote_literal(str(existing.info.path))})"
    new = ", ".join(
        f"CAST({quote_identifier(c.name)} AS {c.type}) AS {quote_identifier(c.name)}"
        for c in existing.columns
    )
    column = quote_identifier(key)
    kept = (
        f"SELECT old.* FROM {old} AS old ANTI JOIN {INCOMING} AS new"
        f" ON old.{column} = new.{column}"
        if merge
        else f"SELECT * FROM {old}"
    )
    return f"{kept} UNION ALL SELECT {new} FROM {INCOMING}"


def _updated(
    connection: duckdb.DuckDBPyConnection, existing: _Existing, key: str
) -> int:
    old = f"read_parquet({quote_literal(str(existing.info.path))})"
    column = quote_identifier(key)
    return _scalar(
        connection,
        f"SELECT count(*) FROM {INCOMING} AS new SEMI JOIN {old} AS old"
        f" ON new.{column} = old.{column}",
    )


def _write(
    connection: duckdb.DuckDBPyConnection,
    select: str,
    target: Path,
    metadata: dict[str, str],
    *,
    table: str,
    source: str,
) -> None:
    with replacing(target) as temp:
        try:
            connection.execute(
                f"COPY ({select}) TO {quote_literal(str(temp))}"
                f" ({parquet_options(metadata)})"
            )
        except duckdb.ConversionException as exc:
            msg = (
                f"{source} has values that do not fit the column types of table"
                f" {table}. Fix the file, or {_REPLACE_HINT}."
            )
            raise SourceError(
                msg,
                code="columns_differ",
                field="replace",
                details={"table": table, "values": True},
            ) from exc


def _row_count(connection: duckdb.DuckDBPyConnection) -> int:
    return _scalar(connection, f"SELECT count(*) FROM {INCOMING}")


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(connection.execute(sql).fetchall()[0][0])


def _column(connection: duckdb.DuckDBPyConnection, sql: str) -> list[int]:
    return [int(row[0]) for row in connection.execute(sql).fetchall()]


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _records(numbers: list[int], total: int) -> str:
    shown = ", ".join(str(number) for number in numbers)
    more = ", ..." if total > len(numbers) else ""
    word = "record" if len(numbers) == 1 and total == 1 else "records"
    return f"{word} {shown}{more}"


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_COLUMNS])
    more = len(names) - SHOWN_COLUMNS
    return f"{shown} and {more} more" if more > 0 else shown
