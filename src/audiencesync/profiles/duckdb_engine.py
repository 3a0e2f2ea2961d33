"""The embedded engine: an in-memory DuckDB over the store's Parquet files.

Each table file becomes a view (``CREATE VIEW "customers" AS SELECT * FROM
read_parquet('.../customers.parquet')``) in a private in-memory database, so the
engine only ever reads files and holds no database lock: any number of processes
query while one import replaces a file. A view is rebuilt when its file changes
(a new file from an import has a new inode and modification time), so a
long-lived engine sees new data on its next query; a query already streaming
keeps reading the file it opened.

An engine instance belongs to one thread: DuckDB connections are not shared
across threads here. Open one engine per thread (they are cheap).

Errors of the query itself or of the data under it (an invalid ESCAPE, a cast
that fails on a value, a number out of range) become an
:class:`~audiencesync.errors.EvaluationError` in one safe line; other DuckDB
errors (I/O, memory) propagate as ``duckdb.Error``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

import duckdb

from audiencesync.errors import ConfigError
from audiencesync.profiles.catalog import Catalog, Column, ColumnKind, Table
from audiencesync.profiles.engine import DEFAULT_BATCH_ROWS, count_query
from audiencesync.profiles.identifiers import quote_identifier, quote_literal
from audiencesync.profiles.query_errors import DuckDBQueryError, duckdb_query_error
from audiencesync.profiles.tables import (
    read_table_info,
    table_names,
    table_path,
    unreadable_table,
)
from audiencesync.settings import DEFAULT_PROFILE_TABLE

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
_SIMPLE_KINDS = {
    "VARCHAR": ColumnKind.TEXT,
    "DOUBLE": ColumnKind.NUMBER,
    "FLOAT": ColumnKind.NUMBER,
    "BOOLEAN": ColumnKind.BOOLEAN,
    "DATE": ColumnKind.DATE,
}


def kind_of(duckdb_type: str) -> ColumnKind:
    """The :class:`ColumnKind` of a DuckDB type name such as ``DECIMAL(18,2)``."""
    name = duckdb_type.upper()
    if name in _INTEGER_TYPES:
        return ColumnKind.INTEGER
    if name.startswith("DECIMAL"):
        return ColumnKind.NUMBER
    if name.startswith("TIMESTAMP"):
        return ColumnKind.TIMESTAMP
    return _SIMPLE_KINDS.get(name, ColumnKind.OTHER)


def connect_duckdb(
    *, memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB database with the given resource limits."""
    config: dict[str, str | bool | int | float | list[str]] = {}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = threads
    try:
        return duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:
        msg = (
            f"DuckDB refused memory_limit={memory_limit!r} or threads={threads!r};"
            " use a size such as '2GB' and a positive thread count."
        )
        raise ConfigError(msg) from exc


_FOOTER_BYTES = 64 * 1024  # digested in version(): a Parquet file's footer
RELATION_SCHEMA = "audiencesync_profiles"
"""Where a relation's views go in the database that runs it, away from its own
tables: a profile table may well be called ``profiles``, ``state`` or ``plan``."""


@dataclass(frozen=True, slots=True)
class DuckDBRelation:
    """A segment query that another DuckDB database runs where it is.

    The engine's views as they are now (table name, Parquet file), the query in
    DuckDB's SQL and its column names. A plan installs the views in its own
    database and reads the members there (:mod:`audiencesync.sync.identity`):
    they are never streamed through Python, and DuckDB runs the segment's
    condition and the classification as one parallel query. The views live in
    the schema :data:`RELATION_SCHEMA` and the query names its tables there, so
    no profile table can shadow or replace a table of the database it runs in.
    """

    views: tuple[tuple[str, Path], ...]
    sql: str
    columns: tuple[str, ...]
    threads: int | None = None

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the views in ``con`` (and the engine's thread limit, if set)."""
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(RELATION_SCHEMA)}")
        for name, path in self.views:
            _create_view(con, name, path, schema=RELATION_SCHEMA)


def _create_view(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, *, schema: str | None = None
) -> None:
    view = quote_identifier(name)
    if schema is not None:
        view = f"{quote_identifier(schema)}.{view}"
    statement = (
        f"CREATE OR REPLACE VIEW {view} AS"
        f" SELECT * FROM read_parquet({quote_literal(str(path.resolve()))})"
    )
    try:
        con.execute(statement)
    except duckdb.Error as exc:
        raise unreadable_table(path) from exc


class DuckDBEngine:
    """Segment queries over the Parquet files in ``folder``, in DuckDB's dialect."""

    def __init__(
        self,
        folder: Path,
        *,
        profile_table: str = DEFAULT_PROFILE_TABLE,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self._folder = folder
        self._profile_table = profile_table
        self._threads = threads
        self._memory_limit = memory_limit
        self._opened: duckdb.DuckDBPyConnection | None = None
        self._views: dict[str, tuple[int, int, int]] = {}

    @property
    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The engine's database, opened on first use.

        Opening one takes 15-25 ms, which a run whose plan is remembered never
        needs: :meth:`version` reads the files only.
        """
        if self._opened is None:
            self._opened = connect_duckdb(
                memory_limit=self._memory_limit, threads=self._threads
            )
        return self._opened

    @property
    def dialect(self) -> str:
        """DuckDB's sqlglot dialect."""
        return "duckdb"

    def catalog(self) -> Catalog:
        """The tables in the folder now, with kinds, keys and row counts."""
        names = self._sync_views()
        return Catalog(tuple(self._table(name) for name in names), self._profile_table)

    def count(self, query: exp.Query) -> int:
        """How many rows ``query`` returns."""
        self._sync_views()
        sql = count_query(query).sql(dialect=self.dialect)
        try:
            rows = self._connection.execute(sql).fetchall()
        except DuckDBQueryError as exc:
            raise duckdb_query_error(exc) from None
        return int(rows[0][0])

    def stream(
        self, query: exp.Query, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``query``, streamed in batches of at most ``batch_rows``.

        Each stream runs on its own cursor, so the engine can count or start
        another stream while this one is being read.
        """
        if batch_rows < 1:
            msg = f"batch_rows must be at least 1, not {batch_rows}"
            raise ValueError(msg)
        self._sync_views()
        sql = query.sql(dialect=self.dialect)
        cursor = self._connection.cursor()
        try:
            with cursor.sql(sql).to_arrow_reader(batch_size=batch_rows) as reader:
                yield from reader
        except DuckDBQueryError as exc:
            raise duckdb_query_error(exc) from None
        finally:
            cursor.close()

    def relation(self, query: exp.Query) -> DuckDBRelation:
        """``query`` with the views it reads, for another DuckDB database to run."""
        from sqlglot import exp  # noqa: PLC0415 - sqlglot is only a type import above

        names = self._sync_views()
        views = tuple((name, table_path(self._folder, name)) for name in names)
        qualified = query.copy()
        for table in qualified.find_all(exp.Table):
            table.set("db", exp.to_identifier(RELATION_SCHEMA, quoted=True))
        sql = qualified.sql(dialect=self.dialect)
        return DuckDBRelation(views, sql, tuple(query.named_selects), self._threads)

    def version(self) -> str | None:
        """A digest of the folder, the profile table and every table file as it is.

        An import writes a table's new file beside the old one and moves it into
        place, so any change gives the file another inode, modification time or
        size. The file's last 64 KiB (the Parquet footer: row counts, column
        statistics) are digested too, so even a file rewritten in place with its
        old size and time shows as changed.
        """
        where = f"{self._folder.resolve()}\n{self._profile_table}"
        digest = hashlib.sha256(where.encode())
        for name in table_names(self._folder):
            try:
                with table_path(self._folder, name).open("rb") as file:
                    stat = os.fstat(file.fileno())
                    file.seek(max(stat.st_size - _FOOTER_BYTES, 0))
                    tail = file.read()
            except FileNotFoundError:
                continue
            signature = f"\n{name}:{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}:"
            digest.update(signature.encode())
            digest.update(tail)
        return digest.hexdigest()

    def close(self) -> None:
        """Close the DuckDB connection, if it was opened."""
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _table(self, name: str) -> Table:
        info = read_table_info(self._folder, name)
        described = self._connection.execute(
            f"DESCRIBE {quote_identifier(name)}"
        ).fetchall()
        columns = tuple(
            Column(str(row[0]), kind_of(str(row[1])), str(row[1])) for row in described
        )
        return Table(name, columns, key=info.key, rows=info.rows)

    def _sync_views(self) -> tuple[str, ...]:
        """One view per table file; rebuilt when the file was replaced."""
        names = table_names(self._folder)
        for gone in set(self._views) - set(names):
            self._connection.execute(f"DROP VIEW IF EXISTS {quote_identifier(gone)}")
            del self._views[gone]
        for name in names:
            path = table_path(self._folder, name)
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if self._views.get(name) != signature:
                self._create_view(name, path)
                self._views[name] = signature
        return tuple(name for name in names if name in self._views)

    def _create_view(self, name: str, path: Path) -> None:
        _create_view(self._connection, name, path)
