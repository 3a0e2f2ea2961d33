"""Acceptance: nothing a user types can run as SQL.

Rule values are literals (they match exactly themselves, or nothing); hostile
``--where`` text is refused before it could reach an engine. Afterwards every
table is still there with its rows, on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from audiencesync.errors import RuleError
from audiencesync.segments import members_query, parse_rules, parse_where
from tests.segments.conftest import ROW_COUNTS, SqlRunner
from tests.segments.data import CATALOG, CUSTOMERS, TODAY

HOSTILE_VALUES = [
    "'; DROP TABLE customers; --",
    "x' OR '1'='1",
    "\\'; DELETE FROM purchases",
    "%",
    "_",
    "\\",
    "\\\\'",
    "''",
    '"; DROP TABLE "customers"; --',
    "$$; DROP TABLE customers; $$",
    "');\nDELETE FROM tickets;--",
    "\u2019; DROP TABLE customers",
    "ÿ\x7f\u00a0",
    "%(name)s",
    ":name",
    "?",
    "{}",
    "🙂' OR 1=1 --",
]


def _conditions(value: str) -> list[dict[str, object]]:
    return [
        {"field": "email", "op": "=", "value": value},
        {"field": "email", "op": "contains", "value": value},
        {"field": "email", "op": "in", "value": [value, "x"]},
        {"field": "email", "op": "not_in", "value": [value]},
        {"field": "email", "op": "starts_with", "value": value},
        {"field": "email", "op": "ends_with", "value": value},
        {"field": "country", "op": "between", "value": [value, value + "z"]},
        {
            "exists": {
                "table": "purchases",
                "all": [{"field": "channel", "op": "=", "value": value}],
            }
        },
    ]


_MATCHES: dict[str, Callable[[str, str], bool]] = {
    "=": lambda email, value: email == value,
    "in": lambda email, value: email in {value, "x"},
    "not_in": lambda email, value: email != value,
    "contains": lambda email, value: value.lower() in email.lower(),
    "starts_with": lambda email, value: email.lower().startswith(value.lower()),
    "ends_with": lambda email, value: email.lower().endswith(value.lower()),
}


def _expected(rules: dict[str, object], value: str) -> set[str]:
    match = _MATCHES.get(str(rules.get("op")))
    if match is None:  # between on country, exists on channel: nothing is that odd
        return set()
    return {
        c.customer_id
        for c in CUSTOMERS
        if c.email is not None and c.email.strip() and match(c.email, value)
    }


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_hostile_rule_values_are_literals(value: str, runner: SqlRunner) -> None:
    """Each value matches exactly the rows holding it; the tables stay intact."""
    for rules in _conditions(value):
        query = members_query(parse_rules(rules), CATALOG, today=TODAY)
        selected = {str(row[0]) for row in runner.rows(query)}
        assert selected == _expected(rules, value), rules
    for table, count in ROW_COUNTS.items():
        assert runner.row_count(table) == count


def test_a_hostile_value_can_match_its_own_row(runner: SqlRunner) -> None:
    """The literal "'; DROP TABLE customers; --" finds the profile holding it."""
    rules = {"field": "email", "op": "=", "value": "'; DROP TABLE customers; --"}
    query = members_query(parse_rules(rules), CATALOG, today=TODAY)
    assert runner.rows(query) == [("c16",)]


HOSTILE_NAMES = [
    {"field": 'country" = \'FR\' OR "1"="1', "op": "=", "value": "FR"},
    {"field": "country; DROP TABLE customers", "op": "is_empty"},
    {"exists": {"table": "purchases; DROP TABLE customers"}},
    {"exists": {"table": "duckdb_tables()"}},
    {"exists": {"table": "pg_catalog.pg_tables"}},
]


@pytest.mark.parametrize("rules", HOSTILE_NAMES, ids=repr)
def test_hostile_names_are_unknown_columns_or_tables(rules: dict[str, object]) -> None:
    """Names only ever match catalog names exactly."""
    with pytest.raises(RuleError, match=r"Unknown (column|table)"):
        members_query(parse_rules(rules), CATALOG, today=TODAY)


HOSTILE_WHERE = [
    ("1=1; DROP TABLE customers", r'remove the ";"'),
    ("country = 'FR'; DELETE FROM customers", r'remove the ";"'),
    ("country = 'FR' -- comment", "Comments"),
    ("country = 'FR' /* c */", "Comments"),
    ("/* c */ country = 'FR'", "Comments"),
    ("(SELECT 1); DELETE FROM customers", r'remove the ";"'),
    ("pg_sleep(5) IS NULL", "function pg_sleep is not allowed"),
    ("read_csv('/etc/passwd') IS NOT NULL", "function read_csv is not allowed"),
    ("lower(country) = 'fr' OR EXISTS (SELECT * FROM duckdb_tables())", "Subqueries"),
    ("country IN (SELECT name FROM sqlite_master)", 'Unknown table "sqlite_master"'),
    ("getvariable('x') = 1", "function getvariable is not allowed"),
    (
        "EXISTS (SELECT * FROM secrets WHERE secrets.id = customers.customer_id)",
        'Unknown table "secrets"',
    ),
    ("customer_id IN (SELECT customer_id FROM pg_catalog.pg_user)", "Subqueries"),
    (
        "customer_id IN (SELECT customer_id FROM purchases UNION SELECT 'x')",
        "Subqueries",
    ),
    ("COPY customers TO '/tmp/x.csv'", "COPY at line 1, column 1 is not allowed"),
    ("ATTACH 'evil.db'", "ATTACH at line 1, column 1 is not allowed"),
    ("INSTALL httpfs", "INSTALL at line 1, column 1 is not allowed"),
    ("LOAD httpfs", "LOAD at line 1, column 1 is not allowed"),
    ("country = 'FR' OR 1 = (DROP TABLE customers)", "DROP"),
    ("country = (SELECT max(email) FROM customers)", "Subqueries|not allowed"),
    ("country = ?", "not allowed"),
    ("country = $1", "not allowed"),
    ("row_number() OVER () = 1", "not allowed"),
    ("current_setting('is_superuser') = 'on'", "function current_setting"),
    ("CAST(country AS regclass) IS NULL", "cast"),
    ("country = chr(39)", "function chr"),
    ("now() > last_seen_at", "function now"),
    ("customers.* IS NULL", "not allowed"),
    ("main.customers.country = 'FR'", "not allowed"),
    ("EXISTS (SELECT * FROM purchases, customers)", "Subqueries"),
    ("EXISTS (SELECT * FROM purchases WHERE true LIMIT 1)", "Subqueries"),
    ("EXISTS (WITH x AS (SELECT 1) SELECT * FROM x)", "Subqueries"),
    ("E'\\x27' = country", "not allowed"),
]


@pytest.mark.parametrize(
    ("sql", "message"), HOSTILE_WHERE, ids=[w for w, _ in HOSTILE_WHERE]
)
def test_hostile_where_is_refused(sql: str, message: str, runner: SqlRunner) -> None:
    """Each attack raises RuleError before any SQL reaches the engine."""
    with pytest.raises(RuleError, match=message):
        members_query(parse_where(sql), CATALOG, today=TODAY)
    for table, count in ROW_COUNTS.items():
        assert runner.row_count(table) == count
