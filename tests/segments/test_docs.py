"""docs/segments.md tells the truth: operators, functions and error messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from audiencesync.errors import RuleError
from audiencesync.segments import (
    OPERATORS,
    members_query,
    parse_rules,
    parse_rules_text,
    parse_where,
)
from audiencesync.segments.allowlist import FUNCTIONS
from tests.segments.data import CATALOG, TODAY

DOC = (Path(__file__).parents[2] / "docs" / "segments.md").read_text(encoding="utf-8")


def _errors_block() -> str:
    found = re.search(r"## Errors\n.*?```\n(.*?)```", DOC, re.DOTALL)
    assert found is not None
    return found[1]


@pytest.mark.parametrize("op", OPERATORS)
def test_every_operator_is_in_the_operator_table(op: str) -> None:
    """Each operator has its row in the table of operators."""
    assert re.search(rf"^\| `{re.escape(op)}`", DOC, re.MULTILINE) or f"`{op}`" in DOC


@pytest.mark.parametrize("name", [f.strip() for f in FUNCTIONS.split(",")])
def test_every_allowed_function_is_documented(name: str) -> None:
    """The --where allow-list in the docs names each allowed function."""
    assert f"`{name}" in DOC


Maker = Callable[[], object]


def _message(make: Maker) -> str:
    with pytest.raises(RuleError) as caught:
        make()
    return str(caught.value)


def _rules(data: object) -> Maker:
    return lambda: members_query(parse_rules(data), CATALOG, today=TODAY)


def _where(sql: str) -> Maker:
    return lambda: members_query(parse_where(sql), CATALOG, today=TODAY)


FR = {"field": "country", "op": "=", "value": "FR"}
EXAMPLES: dict[str, Maker] = {
    "unknown column": _rules({"field": "contry", "op": "=", "value": "FR"}),
    "text vs number": _rules({"field": "country", "op": ">", "value": 5}),
    "number vs text": _rules({"field": "lifetime_value", "op": ">", "value": "1000"}),
    "unknown operator": _rules({"all": [{"field": "country", "op": "equals"}]}),
    "empty group": _rules({"any": [FR, {"all": []}]}),
    "between shape": _rules({"field": "orders", "op": "between", "value": [1]}),
    "between order": _rules({"field": "orders", "op": "between", "value": [5, 1]}),
    "days": _rules({"field": "birth_date", "op": "in_last_days", "value": 0}),
    "bad date": _rules({"field": "birth_date", "op": "=", "value": "2024-02-30"}),
    "unknown table": _rules({"exists": {"table": "purchase"}}),
    "no link": _rules({"exists": {"table": "events"}}),
    "bad json": lambda: parse_rules_text(
        '{"field": "country",\n "op": "=" "value": 1}'
    ),
    "unreadable where": _where("country = "),
    "semicolon": _where("1=1; DROP TABLE customers"),
    "function": _where("pg_sleep(5) IS NULL"),
    "uncorrelated": _where("EXISTS (SELECT * FROM purchases WHERE amount > 100)"),
}


@pytest.mark.parametrize("make", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_error_examples_are_real_messages(make: Maker) -> None:
    """Each documented error example is exactly what audiencesync prints."""
    assert _message(make) in _errors_block().splitlines()
