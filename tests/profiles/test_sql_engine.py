"""The external engine over SQLAlchemy: PostgreSQL for real, SQLite for the rest."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from audiencesync.errors import ConfigError, EvaluationError
from audiencesync.profiles import open_engine
from audiencesync.profiles.catalog import ColumnKind
from audiencesync.profiles.duckdb_engine import DuckDBEngine
from audiencesync.profiles.sql_engine import SqlEngine, dialect_for
from audiencesync.settings import Settings

CUSTOMERS_DDL = """
CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    first_name VARCHAR(50),
    orders INTEGER,
    lifetime_value NUMERIC(10, 2),
    score DOUBLE PRECISION,
    marketing_consent BOOLEAN,
    signup_date DATE,
    last_seen TIMESTAMP,
    updated_at TIMESTAMPTZ,
    extra JSONB
)
"""
PURCHASES_DDL = "CREATE TABLE purchases (customer_id TEXT, amount NUMERIC(8, 2))"
CUSTOMERS: list[dict[str, Any]] = [
    {
        "customer_id": "C1",
        "first_name": "Ann",
        "orders": 3,
        "lifetime_value": Decimal("12.50"),
        "score": 0.5,
        "marketing_consent": True,
        "signup_date": dt.date(2024, 1, 2),
        "last_seen": dt.datetime(2024, 5, 1, 10, 30),  # noqa: DTZ001 - a naive column
        "updated_at": dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC),
    },
    {"customer_id": "C2"},
    {"customer_id": "C3", "first_name": "Cy", "orders": 7, "lifetime_value": 100},
]
EXPECTED_KINDS = {
    "customer_id": ColumnKind.TEXT,
    "first_name": ColumnKind.TEXT,
    "orders": ColumnKind.INTEGER,
    "lifetime_value": ColumnKind.NUMBER,
    "score": ColumnKind.NUMBER,
    "marketing_consent": ColumnKind.BOOLEAN,
    "signup_date": ColumnKind.DATE,
    "last_seen": ColumnKind.TIMESTAMP,
    "updated_at": ColumnKind.TIMESTAMP,
    "extra": ColumnKind.OTHER,
}
COLUMNS = [name for name in EXPECTED_KINDS if name != "extra"]


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """The fresh schema with a customers table of every kind, and purchases."""
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(CUSTOMERS_DDL))
            connection.execute(sa.text(PURCHASES_DDL))
            rows = [dict.fromkeys(COLUMNS) | row for row in CUSTOMERS]
            customers = sa.Table("customers", sa.MetaData(), autoload_with=connection)
            connection.execute(customers.insert(), rows)
            connection.execute(
                sa.text("INSERT INTO purchases VALUES ('C1', 5), ('C1', 7.25)")
            )
    finally:
        engine.dispose()
    return postgres_url


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[SqlEngine]:
    """A SqlEngine on that schema, with the key taken from the primary key."""
    engine = SqlEngine(pg_url, profile_table="customers", key=None)
    yield engine
    engine.close()


def _rows(
    engine: SqlEngine, query: exp.Query, **options: int
) -> list[dict[str, object]]:
    return [
        row for batch in engine.stream(query, **options) for row in batch.to_pylist()
    ]


def test_postgres_catalog_maps_every_kind(pg_engine: SqlEngine) -> None:
    """Text, integer, numeric, double, boolean, date and timestamps get their kinds."""
    table = pg_engine.catalog().profile
    assert table is not None
    assert {column.name: column.kind for column in table.columns} == EXPECTED_KINDS


def test_postgres_catalog_has_keys_and_profile_row_count(pg_engine: SqlEngine) -> None:
    """The key is the primary key; purchases join on it; only profiles are counted."""
    catalog = pg_engine.catalog()
    assert [(t.name, t.key, t.rows) for t in catalog.tables] == [
        ("customers", "customer_id", 3),
        ("purchases", "customer_id", None),
    ]


def test_key_setting_overrides_the_primary_key(pg_url: str) -> None:
    """AUDIENCESYNC_PROFILE_KEY names the key when the table has another one."""
    with SqlEngine(pg_url, profile_table="customers", key="first_name") as engine:
        profile = engine.catalog().profile
    assert profile is not None
    assert profile.key == "first_name"


def test_postgres_count_and_stream_match(pg_engine: SqlEngine) -> None:
    """count() and stream() agree, and values arrive with their types."""
    query = (
        sqlglot.select(*COLUMNS)
        .from_("customers")
        .where(exp.column("customer_id").like(exp.Literal.string("C%")))
        .order_by("customer_id")
    )
    rows = _rows(pg_engine, query)
    assert pg_engine.count(query) == len(rows) == 3
    assert rows[0] == {**CUSTOMERS[0], "lifetime_value": 12.5}


def test_postgres_batches_keep_one_schema(pg_engine: SqlEngine) -> None:
    """A batch of NULLs has the same column types as a batch of values."""
    query = sqlglot.select(*COLUMNS).from_("customers").order_by("customer_id")
    schemas = {batch.schema for batch in pg_engine.stream(query, batch_rows=1)}
    assert schemas == {
        pa.schema(
            [  # type: ignore[arg-type]
                ("customer_id", pa.string()),
                ("first_name", pa.string()),
                ("orders", pa.int64()),
                ("lifetime_value", pa.float64()),
                ("score", pa.float64()),
                ("marketing_consent", pa.bool_()),
                ("signup_date", pa.date32()),
                ("last_seen", pa.timestamp("us")),
                ("updated_at", pa.timestamp("us", tz="UTC")),
            ]
        )
    }


def test_postgres_join_on_purchases(pg_engine: SqlEngine) -> None:
    """Queries across the profile table and another table run as one."""
    query = sqlglot.parse_one(
        "SELECT c.customer_id, sum(p.amount) AS spent FROM customers AS c"
        " JOIN purchases AS p ON p.customer_id = c.customer_id"
        " GROUP BY c.customer_id",
        dialect="postgres",
    )
    assert isinstance(query, exp.Query)
    assert _rows(pg_engine, query) == [{"customer_id": "C1", "spent": Decimal("12.25")}]


def test_engine_sees_only_its_schema(pg_url: str, postgres_server: sa.Engine) -> None:
    """Tables of another schema are neither listed nor queried."""
    other = f"as_other_{uuid.uuid4().hex[:12]}"
    with postgres_server.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{other}"'))
        connection.execute(sa.text(f'CREATE TABLE "{other}".customers (id INTEGER)'))
        connection.execute(sa.text(f'INSERT INTO "{other}".customers VALUES (1)'))  # noqa: S608 - a schema name the test made
    try:
        with SqlEngine(pg_url, profile_table="customers", key=None) as default:
            default_tables = [table.name for table in default.catalog().tables]
        with SqlEngine(
            pg_url, profile_table="customers", key="id", schema=other
        ) as named:
            named_tables = [table.name for table in named.catalog().tables]
            named_count = named.count(sqlglot.select("id").from_("customers"))
    finally:
        with postgres_server.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{other}" CASCADE'))
    assert (default_tables, named_tables, named_count) == (
        ["customers", "purchases"],
        ["customers"],
        1,
    )


# --- without a server: SQLite, and pure functions ------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database with a small customers table."""
    url = f"sqlite:///{tmp_path / 'profiles.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
        )
        connection.execute(
            sa.text("INSERT INTO customers VALUES (1, 'a@example.com'), (2, '100%')")
        )
    engine.dispose()
    return url


@pytest.mark.parametrize(
    ("backend", "dialect"),
    [
        ("postgresql", "postgres"),
        ("mysql", "mysql"),
        ("mariadb", "mysql"),
        ("sqlite", "sqlite"),
        ("mssql", "tsql"),
        ("snowflake", "snowflake"),
    ],
    ids=["postgresql", "mysql", "mariadb", "sqlite", "mssql", "other"],
)
def test_backend_names_map_to_sqlglot_dialects(backend: str, dialect: str) -> None:
    """The URL's backend picks the dialect segment queries are rendered in."""
    assert dialect_for(backend) == dialect


def test_sqlite_engine_counts_and_streams(sqlite_url: str) -> None:
    """Any SQLAlchemy database works, and a literal % stays a literal."""
    percent = (
        sqlglot.select("id")
        .from_("customers")
        .where(exp.column("email").eq(exp.Literal.string("100%")))
    )
    like = (
        sqlglot.select("id")
        .from_("customers")
        .where(exp.column("email").like(exp.Literal.string("%@%")))
    )
    with SqlEngine(sqlite_url, profile_table="customers", key=None) as engine:
        found = (engine.dialect, _rows(engine, like), engine.count(percent))
    assert found == ("sqlite", [{"id": 1}], 1)


def test_open_engine_follows_the_settings(tmp_path: Path, sqlite_url: str) -> None:
    """No profiles URL: DuckDB over the home folder; a URL: the SQL engine."""
    embedded = open_engine(Settings(home=tmp_path))
    external = open_engine(Settings(home=tmp_path, profiles_url=sqlite_url))
    try:
        assert (
            isinstance(embedded, DuckDBEngine),
            isinstance(external, SqlEngine),
        ) == (
            True,
            True,
        )
    finally:
        embedded.close()
        external.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "not a url",
            "AUDIENCESYNC_PROFILES_URL is not a valid SQLAlchemy URL; use a form such"
            " as postgresql+psycopg://user@host/db.",
        ),
        (
            "nosuchdb://user:secret@host/db",
            "AUDIENCESYNC_PROFILES_URL names a database driver that is not installed;"
            " install the SQLAlchemy dialect and driver for it.",
        ),
    ],
    ids=["not a url", "unknown driver"],
)
def test_bad_urls_are_config_errors_without_secrets(url: str, message: str) -> None:
    """The message says the fix and never repeats the URL (it may hold a password)."""
    with pytest.raises(ConfigError) as raised:
        SqlEngine(url, profile_table="customers", key=None)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "condition",
    ["CAST(first_name AS INTEGER) > 0", "CAST(first_name AS DATE) > '2020-01-01'"],
    ids=["integer-cast", "date-cast"],
)
def test_postgres_evaluation_errors_are_one_safe_line(
    pg_engine: SqlEngine, condition: str
) -> None:
    """A query the data breaks: EvaluationError, no value of the data in it."""
    query = sqlglot.select("customer_id").from_("customers").where(condition)
    with pytest.raises(EvaluationError) as counted:
        pg_engine.count(query)
    with pytest.raises(EvaluationError) as streamed:
        list(pg_engine.stream(query))
    for caught in (counted, streamed):
        assert "cannot be evaluated" in str(caught.value)
        assert "Ann" not in str(caught.value)
