"""Refresh one table of the embedded store from its sources, behind a brake.

A table records its sources in import order: the replace that made it (the
base), then each merge (profile table) or append (other tables). When a file
changed since, :func:`refresh_table` re-applies them as they were imported:

- the base changed, or an appended file did: the table is rebuilt, the base
  file first, then every later source layered on in order;
- only merge files changed: the first changed merge and every later one are
  layered again on the table as it is. A merge only adds and updates rows, so a
  merge file changing never shrinks a table.

The new content is built in memory, then written beside the table and moved into
place (a failure leaves the table as it was). The removal brake guards the data
itself: when the new content lacks more than ``brake`` percent of the table's
rows, the table stays as it was and the content is held
(:mod:`audiencesync.profiles.holds`) until an administrator approves or discards
it. A source file that is gone stops the refresh of its table: without it the
table cannot be rebuilt as it was imported.
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
from audiencesync.profiles.holds import (
    Hold,
    drop_hold,
    held_folder,
    held_path,
    read_hold,
    write_record,
)
from audiencesync.profiles.identifiers import quote_identifier, quote_literal
from audiencesync.profiles.importing import check_columns, check_keys
from audiencesync.profiles.sources import INCOMING, SourceColumn, load_source
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
    writer_lock,
)

CURRENT = "refreshed"  # the new content, built in the in-memory database
_NEXT = "refreshed_next"
_REPLACE_HINT = "import the table again in replace mode"


class RefreshOutcome(enum.StrEnum):
    """What a refresh did to one table."""

    UNCHANGED = "unchanged"
    REFRESHED = "reimported"
    HELD = "held"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class TableRefresh:
    """One table's refresh: its rows before and after, and the hold, if any."""

    table: str
    outcome: RefreshOutcome
    rows_before: int
    rows: int  # the table's rows now (held: unchanged)
    sources: tuple[TableSource, ...]
    hold: Hold | None = None
    new_hold: bool = False  # held by this refresh, not one before it
    missing: tuple[Path, ...] = ()


def refresh_table(
    folder: Path, table: str, *, profile_table: str, brake: float
) -> TableRefresh:
    """Re-apply ``table``'s sources if a file changed; hold it past the brake."""
    with writer_lock(folder):
        info = read_table_info(folder, table)
        hold = read_hold(folder, table)
        if hold is not None and not hold.is_current(folder):
            drop_hold(folder, table)  # the table changed since: start afresh
            hold = None
        if (
            hold is not None
            and hold.brake == brake
            and not _any_changed(_held_sources(folder, table))
        ):
            return _result(info, RefreshOutcome.HELD, hold=hold)
        changed = [i for i, s in enumerate(info.sources) if s.stamp.has_changed()]
        if not changed:
            if hold is not None:  # the files are back as the table has them
                drop_hold(folder, table)
            return _result(info, RefreshOutcome.UNCHANGED)
        missing = tuple(s.path for s in info.sources if not s.path.is_file())
        if missing:
            return _result(info, RefreshOutcome.MISSING, hold=hold, missing=missing)
        with closing(connect_duckdb()) as connection:
            sources = _rebuild(
                connection, info, changed, profile=table == profile_table
            )
            metadata = table_metadata(
                key=info.key or sources[0].key,
                sources=sources,
                imported_at=datetime.now(UTC),
            )
            removed = _removed(connection, info, profile=table == profile_table)
            if info.rows and removed * 100 > brake * info.rows:
                held = _hold(connection, info, metadata, removed=removed, brake=brake)
                return _result(info, RefreshOutcome.HELD, hold=held, new=hold is None)
            _write(connection, table_path(folder, table), metadata)
        drop_hold(folder, table)
        return _result(read_table_info(folder, table), RefreshOutcome.REFRESHED, info)


# --- building the new content ------------------------------------------------------


def _rebuild(
    connection: duckdb.DuckDBPyConnection,
    info: TableInfo,
    changed: list[int],
    *,
    profile: bool,
) -> tuple[TableSource, ...]:
    """Build ``CURRENT`` from the sources (``changed``: which files changed);
    the sources restamped as read."""
    sources = list(info.sources)
    appended = any(sources[i].mode is SourceMode.APPEND for i in changed)
    base = sources[0]
    if base.mode is SourceMode.REPLACE and (changed[0] == 0 or appended):
        sources[0] = base.restamped(SourceStamp.of(base.path))
        load_source(connection, base.path)
        check_keys(
            connection, base.key, unique=profile, source=base.path.name, table=info.name
        )
        connection.execute(f"CREATE TABLE {CURRENT} AS SELECT * FROM {INCOMING}")
        start = 1
    elif appended:
        msg = (
            f"An appended source of table {info.name} changed, and the table has no"
            f" base file to rebuild it from; {_REPLACE_HINT}."
        )
        raise SourceError(msg)
    else:
        old = quote_literal(str(info.path))
        connection.execute(
            f"CREATE TABLE {CURRENT} AS SELECT * FROM read_parquet({old})"
        )
        start = changed[0]
    for index in range(start, len(sources)):
        sources[index] = _layer(connection, sources[index], info.name, profile=profile)
    return tuple(sources)


def _layer(
    connection: duckdb.DuckDBPyConnection,
    source: TableSource,
    table: str,
    *,
    profile: bool,
) -> TableSource:
    """Merge or append one source file onto ``CURRENT``; it restamped."""
    stamp = SourceStamp.of(source.path)
    existing = _columns(connection)
    text = [c.name for c in existing if kind_of(c.type) is ColumnKind.TEXT]
    connection.execute(f"DROP TABLE IF EXISTS {INCOMING}")
    columns = load_source(connection, source.path, text_columns=text)
    name = source.path.name
    check_keys(connection, source.key, unique=profile, source=name, table=table)
    check_columns(connection, columns, existing, table, name)
    new = ", ".join(
        f"CAST({quote_identifier(c.name)} AS {c.type}) AS {quote_identifier(c.name)}"
        for c in existing
    )
    key = quote_identifier(source.key)
    kept = (
        f"SELECT old.* FROM {CURRENT} AS old ANTI JOIN {INCOMING} AS new"
        f" ON old.{key} = new.{key}"
        if source.mode is SourceMode.MERGE
        else f"SELECT * FROM {CURRENT}"
    )
    try:
        connection.execute(
            f"CREATE TABLE {_NEXT} AS {kept} UNION ALL SELECT {new} FROM {INCOMING}"
        )
    except duckdb.ConversionException as exc:
        msg = (
            f"{name} has values that do not fit the column types of table {table}."
            f" Fix the file, or {_REPLACE_HINT}."
        )
        raise SourceError(msg) from exc
    connection.execute(f"DROP TABLE {CURRENT}")
    connection.execute(f"ALTER TABLE {_NEXT} RENAME TO {CURRENT}")
    return source.restamped(stamp)


def _removed(
    connection: duckdb.DuckDBPyConnection, info: TableInfo, *, profile: bool
) -> int:
    """Rows of the table the new content lacks: by key in the profile table."""
    if not profile or info.key is None:
        new_rows = _scalar(connection, f"SELECT count(*) FROM {CURRENT}")
        return max(0, info.rows - new_rows)
    old = f"read_parquet({quote_literal(str(info.path))})"
    key = quote_identifier(info.key)
    return _scalar(
        connection,
        f"SELECT count(*) FROM {old} AS old ANTI JOIN {CURRENT} AS new"
        f" ON old.{key} = new.{key}",
    )


# --- writing -----------------------------------------------------------------------


def _write(
    connection: duckdb.DuckDBPyConnection, target: Path, metadata: dict[str, str]
) -> None:
    with replacing(target) as temp:
        options = parquet_options(metadata)
        connection.execute(f"COPY {CURRENT} TO {quote_literal(str(temp))} ({options})")


def _hold(
    connection: duckdb.DuckDBPyConnection,
    info: TableInfo,
    metadata: dict[str, str],
    *,
    removed: int,
    brake: float,
) -> Hold:
    folder = info.path.parent
    held_folder(folder).mkdir(mode=0o700, exist_ok=True)
    _write(connection, held_path(folder, info.name), metadata)
    stat = info.path.stat()
    hold = Hold(
        table=info.name,
        rows=info.rows,
        new_rows=_scalar(connection, f"SELECT count(*) FROM {CURRENT}"),
        removed=removed,
        brake=brake,
        held_at=datetime.now(UTC),
        table_size=stat.st_size,
        table_mtime_ns=stat.st_mtime_ns,
    )
    write_record(folder, hold)
    return hold


# --- helpers -----------------------------------------------------------------------


def _any_changed(sources: tuple[TableSource, ...]) -> bool:
    return any(source.stamp.has_changed() for source in sources)


def _held_sources(folder: Path, table: str) -> tuple[TableSource, ...]:
    return read_table_info(held_folder(folder), table).sources


def _columns(connection: duckdb.DuckDBPyConnection) -> tuple[SourceColumn, ...]:
    described = connection.execute(f"DESCRIBE {CURRENT}").fetchall()
    return tuple(SourceColumn(str(row[0]), str(row[1])) for row in described)


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(connection.execute(sql).fetchall()[0][0])


def _result(
    info: TableInfo,
    outcome: RefreshOutcome,
    before: TableInfo | None = None,
    *,
    hold: Hold | None = None,
    new: bool = False,
    missing: tuple[Path, ...] = (),
) -> TableRefresh:
    return TableRefresh(
        table=info.name,
        outcome=outcome,
        rows_before=(before or info).rows,
        rows=info.rows,
        sources=info.sources,
        hold=hold,
        new_hold=new,
        missing=missing,
    )
