"""``--where`` conditions select what SQL says, on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlglot

from audiencesync.segments import compile_condition, members_query, parse_where
from tests.segments.conftest import SqlRunner
from tests.segments.data import CATALOG, CUSTOMERS, PURCHASES, TODAY, Customer
from tests.segments.reference import given, purchases_of, tickets_of

Predicate = Callable[[Customer], bool]


def _purchase_count(row: Customer) -> int:
    return len(purchases_of(row))


WHERE_CASES: list[tuple[str, str, Predicate]] = [
    ("equality", "country = 'FR'", lambda r: r.country == "FR"),
    (
        "and with in list",
        "lifetime_value > 1000 AND country IN ('FR', 'gb')",
        lambda r: (
            given(r.lifetime_value, lambda v: v > 1000) and r.country in {"FR", "gb"}
        ),
    ),
    (
        "or",
        "orders >= 30 OR country = 'IE'",
        lambda r: given(r.orders, lambda v: v >= 30) or r.country == "IE",
    ),
    (
        "not in keeps empty text, drops NULL",
        "country NOT IN ('FR')",
        lambda r: r.country is not None and r.country != "FR",
    ),
    (
        "between",
        "orders BETWEEN 1 AND 5",
        lambda r: given(r.orders, lambda v: 1 <= v <= 5),
    ),
    ("is null", "email IS NULL", lambda r: r.email is None),
    ("is not null", "birth_date IS NOT NULL", lambda r: r.birth_date is not None),
    (
        "like on lower",
        "lower(email) LIKE '%example.com'",
        lambda r: r.email is not None and r.email.lower().endswith("example.com"),
    ),
    (
        "ilike",
        "email ILIKE 'ana@%'",
        lambda r: r.email is not None and r.email.lower().startswith("ana@"),
    ),
    (
        "trim and length",
        "length(trim(email)) = 0",
        lambda r: r.email is not None and r.email.strip(" ") == "",
    ),
    (
        "upper",
        "upper(country) = 'GB'",
        lambda r: r.country is not None and r.country.upper() == "GB",
    ),
    ("coalesce", "coalesce(orders, 0) = 0", lambda r: (r.orders or 0) == 0),
    (
        "abs and round",
        "abs(round(lifetime_value, 0)) = 6",
        lambda r: (
            r.lifetime_value is not None
            and abs(r.lifetime_value.quantize(Decimal(1), rounding="ROUND_HALF_UP"))
            == 6
        ),
    ),
    (
        "cast and arithmetic",
        "CAST(orders AS DOUBLE) / 2 + 1 > 10",
        lambda r: r.orders is not None and r.orders / 2 + 1 > 10,
    ),
    ("boolean column", "marketing_consent", lambda r: r.marketing_consent is True),
    (
        "not boolean column",
        "NOT marketing_consent",
        lambda r: r.marketing_consent is False,
    ),
    (
        "boolean literal",
        "marketing_consent = TRUE",
        lambda r: r.marketing_consent is True,
    ),
    (
        "date text becomes a date",
        "birth_date < '2000-01-01'",
        lambda r: r.birth_date is not None and r.birth_date < date(2000, 1, 1),
    ),
    (
        "timestamp text becomes a timestamp",
        "last_seen_at >= '2026-06-14 12:00:00'",
        lambda r: (
            r.last_seen_at is not None
            and r.last_seen_at >= datetime.fromisoformat("2026-06-14 12:00:00")
        ),
    ),
    (
        "current_date is the evaluation day",
        "birth_date = current_date",
        lambda r: r.birth_date == TODAY,
    ),
    (
        "interval arithmetic",
        "last_seen_at >= current_date - INTERVAL 30 DAY",
        lambda r: (
            r.last_seen_at is not None
            and r.last_seen_at >= datetime.fromisoformat("2026-05-16 00:00:00")
        ),
    ),
    (
        "interval in quotes and plural",
        "birth_date > current_date - INTERVAL '2' DAYS",
        lambda r: r.birth_date is not None and r.birth_date > date(2026, 6, 13),
    ),
    (
        "extract",
        "extract(year FROM birth_date) = 1990",
        lambda r: r.birth_date is not None and r.birth_date.year == 1990,
    ),
    (
        "date_part",
        "date_part('month', last_seen_at) = 6",
        lambda r: r.last_seen_at is not None and r.last_seen_at.month == 6,
    ),
    (
        "column names fold case when unquoted",
        "Country = 'FR'",
        lambda r: r.country == "FR",
    ),
    ("quoted column name", "\"country\" = 'gb'", lambda r: r.country == "gb"),
    (
        "qualified with the profile table",
        "customers.country = 'DE'",
        lambda r: r.country == "DE",
    ),
    (
        "exists correlated",
        "EXISTS (SELECT * FROM purchases WHERE"
        " purchases.customer_id = customers.customer_id AND amount > 100)",
        lambda r: any(given(p.amount, lambda a: a > 100) for p in purchases_of(r)),
    ),
    (
        "exists with alias and bare outer column",
        "EXISTS (SELECT 1 FROM purchases AS x"
        " WHERE x.customer_id = customers.customer_id AND x.channel = 'web'"
        " AND country = 'FR')",
        lambda r: (
            r.country == "FR" and any(p.channel == "web" for p in purchases_of(r))
        ),
    ),
    (
        "in subquery",
        "customer_id IN (SELECT customer_id FROM purchases WHERE channel = 'store')",
        lambda r: any(p.channel == "store" for p in purchases_of(r)),
    ),
    (
        "in subquery with having",
        "customer_id IN (SELECT customer_id FROM purchases"
        " GROUP BY customer_id HAVING count(*) >= 2)",
        lambda r: _purchase_count(r) >= 2,
    ),
    (
        "not exists",
        "NOT EXISTS (SELECT * FROM tickets t WHERE t.owner = customers.customer_id)",
        lambda r: not tickets_of(r),
    ),
    ("negative number", "orders = -1", lambda r: r.orders == -1),
    (
        "timestamp against a day means midnight",
        "last_seen_at >= '2026-06-15'",
        lambda r: r.last_seen_at is not None and r.last_seen_at.date() >= TODAY,
    ),
    (
        "cast to decimal",
        "CAST(lifetime_value AS DECIMAL(12, 1)) = 1000.1",
        lambda r: r.lifetime_value == Decimal("1000.10"),
    ),
    ("percent in a string literal", "email = '%'", lambda r: r.email == "%"),
    ("escaped quote", "email = 'o''brien@x.ie'", lambda r: r.email == "o'brien@x.ie"),
]
WHERE_IDS = [case[0] for case in WHERE_CASES]


@pytest.mark.parametrize(("label", "sql", "expected"), WHERE_CASES, ids=WHERE_IDS)
def test_where_selects_what_sql_says(
    label: str, sql: str, expected: Predicate, runner: SqlRunner
) -> None:
    """The engine returns exactly the profiles the reference predicate picks."""
    query = members_query(parse_where(sql), CATALOG, today=TODAY)
    selected = {str(row[0]) for row in runner.rows(query)}
    assert selected == {row.customer_id for row in CUSTOMERS if expected(row)}
    assert selected, f"{label} should select someone"


@pytest.mark.parametrize(("label", "sql", "expected"), WHERE_CASES, ids=WHERE_IDS)
def test_where_renders_as_valid_spark_sql(
    label: str, sql: str, expected: Predicate
) -> None:
    """The Spark rendering reads back as one SELECT."""
    rendered = members_query(parse_where(sql), CATALOG, today=TODAY).sql(
        dialect="spark"
    )
    assert isinstance(sqlglot.parse_one(rendered, read="spark"), sqlglot.exp.Select)


def test_where_output_quotes_every_name_and_uses_aliases() -> None:
    """Columns become "p"."col" and subquery tables "table" AS "s1"."""
    defn = parse_where(
        "Country = 'FR' AND EXISTS (SELECT * FROM purchases x"
        " WHERE x.customer_id = customers.customer_id)"
    )
    sql = compile_condition(defn, CATALOG, today=TODAY).sql(dialect="duckdb")
    assert sql == (
        '"p"."country" = \'FR\' AND EXISTS(SELECT 1 FROM "purchases" AS "s1"'
        ' WHERE "s1"."customer_id" = "p"."customer_id")'
    )


def test_current_date_compiles_to_the_evaluation_day() -> None:
    """No CURRENT_DATE reaches the engine: evaluation is deterministic."""
    defn = parse_where("birth_date >= current_date")
    sql = compile_condition(defn, CATALOG, today=date(2030, 1, 2)).sql(
        dialect="postgres"
    )
    assert sql == '"p"."birth_date" >= CAST(\'2030-01-02\' AS DATE)'


def test_parse_where_keeps_the_text_as_typed() -> None:
    """The definition stores the trimmed text; compilation re-renders it."""
    assert parse_where("  country = 'FR'\n").sql == "country = 'FR'"


def test_purchase_fixture_has_a_row_without_profile() -> None:
    """An orphan purchase proves IN/EXISTS never invent profiles."""
    assert any(
        p.customer_id not in {c.customer_id for c in CUSTOMERS} for p in PURCHASES
    )
