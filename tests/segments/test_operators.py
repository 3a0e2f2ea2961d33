"""Acceptance: every operator and group form selects exactly the expected profiles.

Each case of :mod:`tests.segments.cases` runs on DuckDB, PostgreSQL and Spark
(local mode; with the slow suites), and its negation must select exactly the
other profiles (no NULL ever leaks).
"""

from __future__ import annotations

import pytest
import sqlglot

from audiencesync.segments import count_query, members_query, parse_rules
from tests.segments.cases import CASES, SELECT_NOBODY, Case
from tests.segments.conftest import SqlRunner
from tests.segments.data import ALL_KEYS, CATALOG, CUSTOMERS, TODAY

CASE_IDS = [case.id for case in CASES]


def expected_keys(case: Case) -> set[str]:
    """The keys the case's plain-Python predicate picks."""
    return {row.customer_id for row in CUSTOMERS if case.expected(row)}


def selected_keys(runner: SqlRunner, rules: dict[str, object]) -> set[str]:
    """The keys the compiled rules select on ``runner``."""
    query = members_query(parse_rules(rules), CATALOG, today=TODAY)
    return {str(row[0]) for row in runner.rows(query)}


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_rules_select_the_expected_profiles(case: Case, runner: SqlRunner) -> None:
    """The engine returns exactly the profiles the reference predicate picks."""
    assert selected_keys(runner, case.rules) == expected_keys(case)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_not_selects_exactly_the_other_profiles(case: Case, runner: SqlRunner) -> None:
    """``not`` is the exact complement: conditions are never NULL."""
    selected = selected_keys(runner, {"not": case.rules})
    assert selected == ALL_KEYS - expected_keys(case)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_case_splits_the_profiles(case: Case) -> None:
    """Each case selects some profiles but not all, so it proves something."""
    count = len(expected_keys(case))
    if case.id in SELECT_NOBODY:
        assert count == 0
    else:
        assert 0 < count < len(ALL_KEYS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_rules_render_as_valid_spark_sql(case: Case) -> None:
    """The Spark rendering is produced and reads back as one SELECT."""
    query = members_query(parse_rules(case.rules), CATALOG, today=TODAY)
    sql = query.sql(dialect="spark")
    assert isinstance(sqlglot.parse_one(sql, read="spark"), sqlglot.exp.Select)


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.id in {"nested groups", "exists all"}],
    ids=lambda case: case.id,
)
def test_count_query_counts_the_members(case: Case, runner: SqlRunner) -> None:
    """COUNT(*) over the condition equals the number of expected members."""
    query = count_query(parse_rules(case.rules), CATALOG, today=TODAY)
    assert runner.rows(query) == [(len(expected_keys(case)),)]


def test_members_query_returns_the_key_then_requested_columns(
    runner: SqlRunner,
) -> None:
    """Requested columns follow the key, each once, in the asked order."""
    rules = parse_rules({"field": "customer_id", "op": "=", "value": "c01"})
    query = members_query(
        rules,
        CATALOG,
        columns=["email", "customer_id", "country", "email"],
        today=TODAY,
    )
    assert runner.rows(query) == [("c01", "ana@example.com", "FR")]
