"""The fixture tables loaded into DuckDB and PostgreSQL, once per session."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pytest
import sqlalchemy
from sqlalchemy.pool import NullPool
from sqlglot import exp

from tests.segments.data import (
    CUSTOMERS,
    PURCHASES,
    TICKETS,
    Customer,
    Purchase,
    Ticket,
)


def _schema(fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema(fields)


_ARROW_TYPES = {
    "customers": _schema(
        [
            ("customer_id", pa.string()),
            ("email", pa.string()),
            ("country", pa.string()),
            ("postcode", pa.string()),
            ("lifetime_value", pa.decimal128(12, 2)),
            ("orders", pa.int64()),
            ("marketing_consent", pa.bool_()),
            ("birth_date", pa.date32()),
            ("last_seen_at", pa.timestamp("us")),
            ("avatar", pa.binary()),
        ]
    ),
    "purchases": _schema(
        [
            ("purchase_id", pa.int64()),
            ("customer_id", pa.string()),
            ("purchased_at", pa.date32()),
            ("amount", pa.decimal128(10, 2)),
            ("channel", pa.string()),
        ]
    ),
    "tickets": _schema(
        [
            ("ticket_id", pa.int64()),
            ("owner", pa.string()),
            ("opened_at", pa.timestamp("us")),
            ("status", pa.string()),
        ]
    ),
}
_ROWS: dict[str, Sequence[Customer | Purchase | Ticket]] = {
    "customers": CUSTOMERS,
    "purchases": PURCHASES,
    "tickets": TICKETS,
}
ROW_COUNTS = {name: len(rows) for name, rows in _ROWS.items()}


class SqlRunner(Protocol):
    """Runs a compiled query on one engine."""

    @property
    def dialect(self) -> str:
        """The sqlglot dialect of the engine."""
        ...

    def rows(self, query: exp.Query) -> list[tuple[object, ...]]:
        """Every row ``query`` returns."""
        ...

    def row_count(self, table: str) -> int:
        """How many rows ``table`` holds now."""
        ...


def _records(table: str) -> list[dict[str, object]]:
    return [dataclasses.asdict(row) for row in _ROWS[table]]


@dataclass
class DuckDBRunner:
    """An in-memory DuckDB holding the fixture tables."""

    connection: duckdb.DuckDBPyConnection
    dialect: str = "duckdb"

    def rows(self, query: exp.Query) -> list[tuple[object, ...]]:
        """Every row ``query`` returns."""
        return self.connection.execute(query.sql(dialect=self.dialect)).fetchall()

    def row_count(self, table: str) -> int:
        """How many rows ``table`` holds now."""
        return len(self.connection.table(table).fetchall())


@dataclass
class PostgresRunner:
    """A PostgreSQL schema holding the fixture tables."""

    engine: sqlalchemy.Engine
    dialect: str = "postgres"

    def rows(self, query: exp.Query) -> list[tuple[object, ...]]:
        """Every row ``query`` returns (sent as is: no driver placeholders)."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(query.sql(dialect=self.dialect))
            rows = [tuple(row) for row in cursor.fetchall()]
            raw.rollback()
            return rows
        finally:
            raw.close()

    def row_count(self, table: str) -> int:
        """How many rows ``table`` holds now."""
        query = sqlalchemy.select(sqlalchemy.func.count()).select_from(
            sqlalchemy.table(table)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


@pytest.fixture(scope="session")
def duckdb_runner() -> Iterator[DuckDBRunner]:
    """DuckDB in memory with customers, purchases and tickets."""
    connection = duckdb.connect()
    for name, schema in _ARROW_TYPES.items():
        arrow = pa.Table.from_pylist(_records(name), schema=schema)
        connection.register("incoming", arrow)
        connection.table("incoming").create(name)
        connection.unregister("incoming")
    yield DuckDBRunner(connection)
    connection.close()


def _postgres_tables(metadata: sqlalchemy.MetaData) -> None:
    col, types = sqlalchemy.Column, sqlalchemy.types
    sqlalchemy.Table(
        "customers", metadata,
        col("customer_id", types.Text, primary_key=True), col("email", types.Text),
        col("country", types.Text), col("postcode", types.Text),
        col("lifetime_value", types.Numeric(12, 2)), col("orders", types.BigInteger),
        col("marketing_consent", types.Boolean), col("birth_date", types.Date),
        col("last_seen_at", types.DateTime), col("avatar", types.LargeBinary),
    )  # fmt: skip
    sqlalchemy.Table(
        "purchases", metadata,
        col("purchase_id", types.BigInteger, primary_key=True),
        col("customer_id", types.Text), col("purchased_at", types.Date),
        col("amount", types.Numeric(10, 2)), col("channel", types.Text),
    )  # fmt: skip
    sqlalchemy.Table(
        "tickets", metadata,
        col("ticket_id", types.BigInteger, primary_key=True), col("owner", types.Text),
        col("opened_at", types.DateTime), col("status", types.Text),
    )  # fmt: skip


@pytest.fixture(scope="session")
def postgres_runner(postgres_server: sqlalchemy.Engine) -> Iterator[PostgresRunner]:
    """A fresh PostgreSQL schema with customers, purchases and tickets."""
    schema = f"as_segments_{uuid.uuid4().hex[:12]}"
    with postgres_server.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_server.url.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    metadata = sqlalchemy.MetaData()
    _postgres_tables(metadata)
    with engine.begin() as conn:
        metadata.create_all(conn)
        for name, table in metadata.tables.items():
            conn.execute(table.insert(), _records(name))
    yield PostgresRunner(engine)
    engine.dispose()
    with postgres_server.begin() as conn:
        conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))


@dataclass
class SparkRunner:
    """A local Spark session with the fixture tables as temporary views."""

    session: Any
    dialect: str = "spark"

    def rows(self, query: exp.Query) -> list[tuple[object, ...]]:
        """Every row ``query`` returns."""
        frame = self.session.sql(query.sql(dialect=self.dialect))
        return [tuple(row) for row in frame.collect()]

    def row_count(self, table: str) -> int:
        """How many rows ``table`` holds now."""
        return int(self.session.table(table).count())


@pytest.fixture(scope="session")
def spark_runner(spark_session: Any) -> SparkRunner:
    """Spark (local mode) with customers, purchases and tickets."""
    for name, schema in _ARROW_TYPES.items():
        arrow = pa.Table.from_pylist(_records(name), schema=schema)
        spark_session.createDataFrame(arrow).createOrReplaceTempView(name)
    return SparkRunner(spark_session)


@pytest.fixture(
    params=["duckdb", "postgres", pytest.param("spark", marks=pytest.mark.slow)]
)
def runner(request: pytest.FixtureRequest) -> SqlRunner:
    """Each engine in turn (PostgreSQL and Spark skip when absent, except in CI)."""
    found: SqlRunner = request.getfixturevalue(f"{request.param}_runner")
    return found
