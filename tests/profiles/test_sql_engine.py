"""The external engine over SQLAlchemy: PostgreSQL for real, SQLite for the rest."""

from __future__ import annotations

import datetime as dt
import os
import time
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

from audiencesync.app.home import initialize
from audiencesync.app.workspace import open_workspace
from audiencesync.errors import ConfigError, EvaluationError
from audiencesync.profiles import open_engine
from audiencesync.profiles.catalog import ColumnKind
from audiencesync.profiles.duckdb_engine import DuckDBEngine
from audiencesync.profiles.sql_engine import SqlEngine, dialect_for, query_guards
from audiencesync.segments.rules import parse_where
from audiencesync.settings import Settings, load_settings

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


# --- guards: read-only, the timeout, only the columns used ----------------------

SLEEP = exp.select(
    exp.Anonymous(this="pg_sleep", expressions=[exp.Literal.number(10)]).as_("slept")
)
TIMEOUT_MESSAGE = (
    "The segment query ran longer than the 1 s limit and the database stopped it."
    " Raise AUDIENCESYNC_PROFILES_TIMEOUT (seconds), or narrow the segment or index"
    " the columns it tests."
)
READ_ONLY_MESSAGE = (
    "The condition cannot be evaluated on the profile data: it would write to the"
    " database, and segment queries run read-only. Use only conditions and"
    " functions that read."
)
FORGET_CUSTOMERS = (
    "CREATE FUNCTION forget_customers() RETURNS integer LANGUAGE sql"
    " AS 'DELETE FROM customers; SELECT 1'"
)


def _count(engine: SqlEngine, query: exp.Query) -> object:
    return engine.count(query)


def _stream(engine: SqlEngine, query: exp.Query) -> object:
    return list(engine.stream(query))


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL text of every statement any SQLAlchemy engine sends meanwhile."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])  # (connection, cursor, statement, ...)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(sa.Engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [(42, "42s"), (0.25, "250ms"), (0, "0")],
    ids=["seconds", "fraction", "zero-sets-none"],
)
def test_postgres_queries_run_read_only_under_profiles_timeout(
    pg_url: str, tmp_path: Path, timeout: float, expected: str
) -> None:
    """Each query's transaction is READ ONLY, its statement_timeout the setting's."""
    settings = Settings(home=tmp_path, profiles_url=pg_url, profiles_timeout=timeout)
    query = sqlglot.parse_one(
        "SELECT current_setting('transaction_read_only') AS read_only,"
        " current_setting('statement_timeout') AS timeout"
    )
    assert isinstance(query, exp.Query)
    engine = open_engine(settings)
    try:
        assert isinstance(engine, SqlEngine)
        found = _rows(engine, query)
    finally:
        engine.close()
    assert found == [{"read_only": "on", "timeout": expected}]


@pytest.mark.parametrize("call", [_count, _stream], ids=["count", "stream"])
def test_postgres_queries_cannot_write(
    pg_url: str, pg_engine: SqlEngine, call: Any
) -> None:
    """A query that would delete the profiles (in a function) fails; none are gone."""
    server = sa.create_engine(pg_url)
    try:
        with server.begin() as connection:
            connection.execute(sa.text(FORGET_CUSTOMERS))
        forget = exp.select(exp.Anonymous(this="forget_customers").as_("forgot"))
        with pytest.raises(EvaluationError) as raised:
            call(pg_engine, forget)
        with server.connect() as connection:
            left = connection.execute(sa.text("SELECT count(*) FROM customers"))
            assert (str(raised.value), left.scalar_one()) == (READ_ONLY_MESSAGE, 3)
    finally:
        server.dispose()


@pytest.mark.parametrize("call", [_count, _stream], ids=["count", "stream"])
def test_postgres_query_over_the_timeout_is_an_evaluation_error(
    pg_url: str, call: Any
) -> None:
    """A 10 s query under a 1 s limit stops at once, in one line naming the setting."""
    with SqlEngine(pg_url, profile_table="customers", key=None, timeout=1) as engine:
        started = time.perf_counter()
        with pytest.raises(EvaluationError) as raised:
            call(engine, SLEEP)
        elapsed = time.perf_counter() - started
    error = raised.value
    assert (str(error), error.code, error.details, elapsed < 5) == (
        TIMEOUT_MESSAGE,
        "query_timeout",
        {"limit_seconds": 1, "setting": "AUDIENCESYNC_PROFILES_TIMEOUT"},
        True,
    )


def test_a_stream_read_slower_than_the_timeout_is_not_cut_off(pg_url: str) -> None:
    """The limit is per fetch: a consumer may take longer than it over the stream."""
    query = sqlglot.select("customer_id").from_("customers")
    started = time.perf_counter()
    keys: list[str] = []
    with SqlEngine(pg_url, profile_table="customers", key=None, timeout=1) as engine:
        for batch in engine.stream(query, batch_rows=1):
            keys += map(str, batch.column("customer_id").to_pylist())
            time.sleep(0.4)  # a consumer busy sending the batch somewhere
    assert (sorted(keys), time.perf_counter() - started > 1) == (
        ["C1", "C2", "C3"],
        True,
    )


def test_zero_timeout_keeps_the_database_timeout(pg_url: str) -> None:
    """AUDIENCESYNC_PROFILES_TIMEOUT=0 sets none: the user's own limit still applies."""
    url = sa.make_url(pg_url)
    options = f"{url.query['options']} -cstatement_timeout=1000"
    limited = url.update_query_dict({"options": options})
    with (
        SqlEngine(
            limited.render_as_string(hide_password=False),
            profile_table="customers",
            key=None,
            timeout=0,
        ) as engine,
        pytest.raises(EvaluationError) as raised,
    ):
        engine.count(SLEEP)
    assert str(raised.value) == (
        "The database cancelled the segment query (its own statement timeout, or an"
        " administrator). Set AUDIENCESYNC_PROFILES_TIMEOUT to the seconds a query"
        " may run, or narrow the segment."
    )


def test_a_timed_out_query_leaves_the_engine_usable(pg_url: str) -> None:
    """The next query gets a clean pooled connection and answers."""
    customers = sqlglot.select("customer_id").from_("customers")
    with SqlEngine(pg_url, profile_table="customers", key=None, timeout=1) as engine:
        with pytest.raises(EvaluationError):
            engine.count(SLEEP)
        assert engine.count(customers) == 3


def test_members_query_reads_only_the_key_and_mapped_columns(
    pg_url: str, tmp_path: Path, statements: list[str]
) -> None:
    """An export's members select the key and its columns; no query selects *."""
    settings = load_settings(home=tmp_path / "home", profiles_url=pg_url)
    initialize(settings)
    with open_workspace(settings) as opened:
        opened.segments.create("Buyers", parse_where("orders > 0"))
        statements.clear()
        evaluation = opened.segments.evaluate("Buyers", columns=["first_name"])
        members = pa.Table.from_batches(list(evaluation))
    sent = [
        sqlglot.parse_one(sql, dialect="postgres")
        for sql in statements
        if "customers" in sql
    ]
    selects = [
        query.named_selects
        for query in sent
        if isinstance(query, exp.Query) and not query.find(exp.Count)
    ]
    stars = [
        query.sql(dialect="postgres")
        for query in sent
        for star in query.find_all(exp.Star)
        if not isinstance(star.parent, exp.Count)
    ]
    rows = sorted(members.to_pylist(), key=lambda row: str(row["customer_id"]))
    assert (rows, selects, stars) == (
        [
            {"customer_id": "C1", "first_name": "Ann"},
            {"customer_id": "C3", "first_name": "Cy"},
        ],
        [["customer_id", "first_name"]],
        [],
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


@pytest.mark.parametrize(
    ("backend", "timeout", "guards"),
    [
        (
            "postgresql",
            600,
            ("SET TRANSACTION READ ONLY", "SET LOCAL statement_timeout = 600000"),
        ),
        ("postgresql", 0, ("SET TRANSACTION READ ONLY",)),
        ("mysql", 600, ()),
        ("sqlite", 600, ()),
    ],
    ids=["postgresql", "postgresql-no-timeout", "mysql", "sqlite"],
)
def test_only_postgresql_queries_open_with_guards(
    backend: str, timeout: float, guards: tuple[str, ...]
) -> None:
    """PostgreSQL gets read-only and the timeout; elsewhere audiencesync sets none."""
    assert query_guards(backend, timeout) == guards


def test_a_negative_timeout_is_refused(sqlite_url: str) -> None:
    """0 means no limit; below that is a programming error."""
    with pytest.raises(ValueError, match=r"0 \(none\) or more seconds, not -1"):
        SqlEngine(sqlite_url, profile_table="customers", key=None, timeout=-1)


def test_profiles_timeout_setting_refuses_negative_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AUDIENCESYNC_PROFILES_TIMEOUT below 0 is a ConfigError naming the setting."""
    monkeypatch.setenv("AUDIENCESYNC_PROFILES_TIMEOUT", "-1")
    with pytest.raises(ConfigError, match="AUDIENCESYNC_PROFILES_TIMEOUT is not valid"):
        load_settings()


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


# --- 1,000,000 profiles in PostgreSQL --------------------------------------------

MILLION_DDL = """
CREATE TABLE customers (
    customer_id TEXT,
    email TEXT,
    country TEXT,
    lifetime_value NUMERIC(10, 2),
    notes TEXT
)
"""
MILLION_ROWS = """
INSERT INTO customers
SELECT 'C' || g, 'user' || g || '@example.com',
       (ARRAY['FR', 'DE', 'US', 'GB'])[1 + g % 4], (g % 5000) / 2.0,
       repeat(md5(g::text), 6)
FROM generate_series(1, 1000000) AS g
"""
BIG_SPENDERS = "country <> 'US' AND lifetime_value >= 100"
BIG_SPENDERS_COUNT = (
    "SELECT count(*) FROM customers WHERE country <> 'US' AND lifetime_value >= 100"
)
ACTIVITY = (
    "SELECT query FROM pg_stat_activity WHERE application_name = :name"
    " AND state = 'idle in transaction'"
)


def _rss_bytes() -> int:
    """This process's resident memory now (Linux's /proc)."""
    pages = Path("/proc/self/statm").read_text(encoding="ascii").split()[1]
    return int(pages) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
def test_a_million_profiles_stream_from_a_server_side_cursor(
    postgres_url: str, tmp_path: Path
) -> None:
    """Every member of 1,000,000 profiles arrives, fetched a batch at a time.

    While the stream is read, PostgreSQL shows the engine's connection fetching
    from a cursor, and this process grows by far less than the table's size.
    """
    server = sa.create_engine(postgres_url)
    try:
        with server.begin() as connection:
            connection.execute(sa.text(MILLION_DDL))
            connection.execute(sa.text(MILLION_ROWS))
            connection.execute(
                sa.text("ALTER TABLE customers ADD PRIMARY KEY (customer_id)")
            )
            connection.execute(sa.text("ANALYZE customers"))
        with server.connect() as connection:
            expected = connection.execute(sa.text(BIG_SPENDERS_COUNT)).scalar_one()
            table = connection.execute(sa.text("SELECT pg_table_size('customers')"))
            table_bytes = table.scalar_one()
        name = f"as_stream_{uuid.uuid4().hex[:12]}"
        url = sa.make_url(postgres_url).update_query_dict({"application_name": name})
        settings = load_settings(
            home=tmp_path / "home", profiles_url=url.render_as_string(False)
        )
        initialize(settings)
        with open_workspace(settings) as opened:
            opened.segments.create("Big spenders", parse_where(BIG_SPENDERS))
            opened.segments.preview("Big spenders", limit=1)  # imports, first use
            members, growth, fetches = 0, 0, list[str]()
            baseline = _rss_bytes()
            for batch in opened.segments.evaluate("Big spenders", columns=["email"]):
                if not fetches:
                    with server.connect() as connection:
                        found = connection.execute(sa.text(ACTIVITY), {"name": name})
                        fetches = list(found.scalars())
                members += batch.num_rows
                growth = max(growth, _rss_bytes() - baseline)
    finally:
        server.dispose()
    assert (members, [query.split()[:2] for query in fetches]) == (
        expected,
        [["FETCH", "FORWARD"]],
    )
    assert growth < table_bytes / 4, (
        f"{growth:,} bytes for a {table_bytes:,}-byte table"
    )


def test_a_database_engine_has_no_data_version(pg_engine: SqlEngine) -> None:
    """Data in a database may change behind its back: runs always plan there."""
    assert pg_engine.version() is None
