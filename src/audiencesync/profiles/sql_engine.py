"""An external engine: any database SQLAlchemy reaches (PostgreSQL, MySQL, ...).

Profiles stay where they are; segment queries are rendered in the database's
sqlglot dialect and run there, and rows come back as Arrow record batches built
from server-side cursor chunks (``stream_results``: with psycopg a named cursor,
``FETCH FORWARD`` one batch at a time), so memory is bounded by a batch, not by
the result. Each column's Arrow type comes from the reflected column type when
the query selects a column of a table it reads, so batches keep one schema;
computed columns get the type Arrow infers.

Each segment query (a count, a stream) runs in a transaction of its own, which
on PostgreSQL opens with :func:`query_guards`: ``SET TRANSACTION READ ONLY``, so
a query can never write to the customer's database (not even through a function
that writes), and ``SET LOCAL statement_timeout`` (the engine's ``timeout``; 0
sets none, so the database's own default applies). While streaming, the limit
applies to each fetch of a batch, not to the whole stream, so a slow consumer is
never cut off. Other backends get no guard from audiencesync: a segment query is
one SELECT, and read-only grants and server-side limits are the database's.

A Spark engine fits the same :class:`~audiencesync.profiles.engine.ProfileEngine`
protocol without touching segment code: ``dialect`` is ``"spark"``, ``catalog()``
reads ``spark.catalog.listTables()`` / ``listColumns()``, ``count()`` runs
``spark.sql(count_query(q).sql("spark")).collect()``, and ``stream()`` yields the
batches of ``spark.sql(q.sql("spark")).toArrow()`` (or converts
``toLocalIterator()`` chunks when the result is too big for the driver).

Data and programming errors of the query (a cast that fails on a value), a
write the read-only transaction refused and a query over the timeout become an
:class:`~audiencesync.errors.EvaluationError` in one safe line; other driver
errors (connection, permissions) propagate as SQLAlchemy errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self, cast

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import types as sa_types
from sqlglot import exp

from audiencesync.errors import ConfigError
from audiencesync.profiles.catalog import Catalog, Column, ColumnKind, Table
from audiencesync.profiles.engine import DEFAULT_BATCH_ROWS, count_query
from audiencesync.profiles.query_errors import sql_query_error
from audiencesync.settings import DEFAULT_PROFILES_TIMEOUT

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import ReflectedColumn

_DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "mssql": "tsql",
}
_KINDS: tuple[tuple[type[sa_types.TypeEngine[Any]], ColumnKind], ...] = (
    (sa_types.Boolean, ColumnKind.BOOLEAN),
    (sa_types.Integer, ColumnKind.INTEGER),
    (sa_types.Numeric, ColumnKind.NUMBER),
    (sa_types.Float, ColumnKind.NUMBER),  # no longer a Numeric in SQLAlchemy 2.1
    (sa_types.DateTime, ColumnKind.TIMESTAMP),
    (sa_types.Date, ColumnKind.DATE),
    (sa_types.String, ColumnKind.TEXT),
    (sa_types.Uuid, ColumnKind.TEXT),
)
_ARROW_TYPES: dict[ColumnKind, pa.DataType] = {
    ColumnKind.TEXT: pa.string(),
    ColumnKind.INTEGER: pa.int64(),
    ColumnKind.NUMBER: pa.float64(),
    ColumnKind.BOOLEAN: pa.bool_(),
    ColumnKind.DATE: pa.date32(),
}


def dialect_for(backend: str) -> str:
    """sqlglot's dialect name for an SQLAlchemy backend name."""
    return _DIALECTS.get(backend, backend)


def kind_of(column_type: sa_types.TypeEngine[Any]) -> ColumnKind:
    """The :class:`ColumnKind` of a reflected SQLAlchemy column type."""
    return next(
        (kind for generic, kind in _KINDS if isinstance(column_type, generic)),
        ColumnKind.OTHER,
    )


def arrow_type_of(column_type: sa_types.TypeEngine[Any]) -> pa.DataType | None:
    """The Arrow type batches use for a column, or ``None`` to let Arrow infer."""
    kind = kind_of(column_type)
    if kind is ColumnKind.TIMESTAMP:
        aware = bool(getattr(column_type, "timezone", False))
        return pa.timestamp("us", tz="UTC" if aware else None)
    return _ARROW_TYPES.get(kind)


class SqlEngine:
    """Segment queries on an SQLAlchemy database, in that database's dialect."""

    def __init__(
        self,
        url: str,
        *,
        profile_table: str,
        key: str | None,
        schema: str | None = None,
        timeout: float = DEFAULT_PROFILES_TIMEOUT,
    ) -> None:
        if timeout < 0:
            msg = f"timeout must be 0 (none) or more seconds, not {timeout}"
            raise ValueError(msg)
        self._engine = _create_engine(url)
        self._profile_table = profile_table
        self._key = key
        self._schema = schema
        self._timeout = timeout
        self._guards = query_guards(self._engine.url.get_backend_name(), timeout)
        self._arrow_types: dict[str, dict[str, pa.DataType | None]] = {}

    @property
    def dialect(self) -> str:
        """The sqlglot dialect of the URL's backend (``postgres``, ``mysql``, ...)."""
        return dialect_for(self._engine.url.get_backend_name())

    def catalog(self) -> Catalog:
        """Tables and views of the schema (or the connection's default schema).

        Rows are counted for the profile table only, to keep this cheap.
        """
        self._arrow_types.clear()  # columns may have changed since the last read
        inspector = sa.inspect(self._engine)
        names = sorted(
            inspector.get_table_names(schema=self._schema)
            + inspector.get_view_names(schema=self._schema)
        )
        reflected = {
            name: inspector.get_columns(name, schema=self._schema) for name in names
        }
        profile_key = self._key or self._primary_key(inspector, names)
        tables = tuple(
            self._table(name, reflected[name], profile_key) for name in names
        )
        return Catalog(tables, self._profile_table)

    def count(self, query: exp.Query) -> int:
        """How many rows ``query`` returns."""
        with self._evaluating(), self._connect() as connection:
            result = self._execute(connection, count_query(query))
            return int(result.scalar_one())

    def stream(
        self, query: exp.Query, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``query`` as record batches, from a server-side cursor."""
        if batch_rows < 1:
            msg = f"batch_rows must be at least 1, not {batch_rows}"
            raise ValueError(msg)
        with self._evaluating(), self._connect() as connection:
            result = self._execute(connection, query, stream_rows=batch_rows)
            names = list(result.keys())
            types = [self._arrow_type(query, name) for name in names]
            while rows := result.fetchmany(batch_rows):
                batch = record_batch(names, types, rows)
                del rows  # free this batch's Python rows before fetching the next
                yield batch

    def version(self) -> str | None:
        """Unknown: the data lives elsewhere and may change at any time."""
        return None

    def close(self) -> None:
        """Dispose of the connection pool."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        """A connection whose transaction is guarded for one segment query.

        Closing the connection rolls the transaction back, which also ends the
        ``SET LOCAL`` timeout before the connection returns to the pool.
        """
        with self._engine.connect() as connection:
            for statement in self._guards:
                connection.exec_driver_sql(statement)
            yield connection

    @contextmanager
    def _evaluating(self) -> Iterator[None]:
        """The query's own database errors as one-line EvaluationErrors."""
        try:
            yield
        except sa_exc.DBAPIError as exc:
            error = sql_query_error(exc, timeout=self._timeout)
            if error is None:
                raise
            raise error from None

    def _execute(
        self,
        connection: sa.Connection,
        query: exp.Query,
        *,
        stream_rows: int | None = None,
    ) -> sa.CursorResult[Any]:
        # no_parameters: the DBAPI gets the SQL as is, so a literal '%' stays one.
        options: dict[str, Any] = {"no_parameters": True}
        if stream_rows is not None:
            options |= {"stream_results": True, "max_row_buffer": stream_rows}
        sql = self._qualified(query).sql(dialect=self.dialect)
        return connection.execution_options(**options).exec_driver_sql(sql)

    def _qualified(self, query: exp.Query) -> exp.Query:
        """``query`` with its tables in ``schema``, when one was given."""
        schema = self._schema
        if schema is None:
            return query
        ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}

        def qualify(node: exp.Expression) -> exp.Expression:
            if (
                isinstance(node, exp.Table)
                and not node.args.get("db")
                and node.name not in ctes
            ):
                node = node.copy()
                node.set("db", exp.to_identifier(schema))
            return node

        # The root is a query, not a table, so transform() keeps its kind.
        return cast("exp.Query", query.transform(qualify))

    def _table(
        self, name: str, columns: Sequence[ReflectedColumn], profile_key: str | None
    ) -> Table:
        catalog_columns = tuple(
            Column(col["name"], kind_of(col["type"]), self._type_name(col["type"]))
            for col in columns
        )
        names = {col.name for col in catalog_columns}
        key = profile_key if profile_key in names else None
        rows = self._row_count(name) if name == self._profile_table else None
        return Table(name, catalog_columns, key=key, rows=rows)

    def _primary_key(self, inspector: sa.Inspector, names: list[str]) -> str | None:
        if self._profile_table not in names:
            return None
        constraint = inspector.get_pk_constraint(
            self._profile_table, schema=self._schema
        )
        columns = constraint.get("constrained_columns") or []
        return columns[0] if len(columns) == 1 else None

    def _row_count(self, name: str) -> int:
        """``SELECT COUNT(*) FROM name``: no query of the engine selects ``*``."""
        counted = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(name))
        with self._connect() as connection:
            return int(self._execute(connection, counted).scalar_one())

    def _type_name(self, column_type: sa_types.TypeEngine[Any]) -> str:
        try:
            return str(column_type.compile(dialect=self._engine.dialect))
        except sa_exc.CompileError:
            return type(column_type).__name__

    def _arrow_type(self, query: exp.Query, name: str) -> pa.DataType | None:
        """The reflected type of ``name`` in the tables ``query`` reads, if unique."""
        found = {
            self._table_types(table.name).get(name)
            for table in query.find_all(exp.Table)
            if name in self._table_types(table.name)
        }
        return found.pop() if len(found) == 1 else None

    def _table_types(self, table: str) -> dict[str, pa.DataType | None]:
        if table not in self._arrow_types:
            inspector = sa.inspect(self._engine)
            try:
                columns = inspector.get_columns(table, schema=self._schema)
            except sa_exc.NoSuchTableError:
                columns = []
            self._arrow_types[table] = {
                col["name"]: arrow_type_of(col["type"]) for col in columns
            }
        return self._arrow_types[table]


def query_guards(backend: str, timeout: float) -> tuple[str, ...]:
    """The statements that open a segment query's transaction on ``backend``.

    PostgreSQL: read-only, and ``timeout`` seconds per statement (0: none set).
    Other backends: none (see the module docstring).
    """
    if backend != "postgresql":
        return ()
    if timeout == 0:
        return ("SET TRANSACTION READ ONLY",)
    milliseconds = max(1, round(timeout * 1000))
    return (
        "SET TRANSACTION READ ONLY",
        f"SET LOCAL statement_timeout = {milliseconds}",
    )


def record_batch(
    names: list[str], types: list[pa.DataType | None], rows: Sequence[Sequence[Any]]
) -> pa.RecordBatch:
    """A record batch from DBAPI rows, with ``types`` where known."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [
        _array(values, arrow_type)
        for values, arrow_type in zip(columns, types, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _array(values: Sequence[Any], arrow_type: pa.DataType | None) -> pa.Array[Any]:
    if arrow_type == pa.float64():
        values = [float(v) if isinstance(v, Decimal) else v for v in values]
    elif isinstance(arrow_type, pa.TimestampType) and arrow_type.tz is not None:
        values = [_as_utc(v) for v in values]
    if arrow_type is not None:
        return pa.array(values, type=arrow_type)
    try:
        inferred: pa.Array[Any] = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed values, e.g. JSON
        return pa.array([None if v is None else str(v) for v in values])
    return inferred


def _as_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def _create_engine(url: str) -> sa.Engine:
    """An SQLAlchemy engine; a bad URL is a :class:`ConfigError` that hides it."""
    try:
        return sa.create_engine(url)
    except sa_exc.NoSuchModuleError as exc:
        msg = (
            "AUDIENCESYNC_PROFILES_URL names a database driver that is not installed;"
            " install the SQLAlchemy dialect and driver for it."
        )
        raise ConfigError(msg) from exc
    except (sa_exc.ArgumentError, ValueError) as exc:
        msg = (
            "AUDIENCESYNC_PROFILES_URL is not a valid SQLAlchemy URL; use a form such"
            " as postgresql+psycopg://user@host/db."
        )
        raise ConfigError(msg) from exc
