"""Static checks (run by mypy) that the segments API keeps its types."""

from __future__ import annotations

from typing import assert_type

from sqlglot import exp

from audiencesync.segments import (
    Definition,
    RulesDefinition,
    WhereDefinition,
    compile_condition,
    count_query,
    definition_from_json,
    definition_to_json,
    describe,
    members_query,
    name_key,
    normalize_name,
    parse_rules,
    parse_rules_text,
    parse_where,
)
from tests.segments.data import CATALOG, TODAY


def test_public_functions_return_their_declared_types() -> None:
    """What the segment service codes against."""
    rules = assert_type(
        parse_rules({"field": "country", "op": "is_empty"}), RulesDefinition
    )
    assert_type(
        parse_rules_text('{"field": "country", "op": "is_empty"}'), RulesDefinition
    )
    where = assert_type(parse_where("country = 'FR'"), WhereDefinition)
    stored = assert_type(definition_to_json(where), dict[str, object])
    assert_type(definition_from_json(stored), Definition)
    assert_type(describe(rules), str)
    assert_type(compile_condition(rules, CATALOG, today=TODAY), exp.Expression)
    assert_type(
        members_query(rules, CATALOG, columns=["email"], today=TODAY), exp.Select
    )
    assert_type(count_query(where, CATALOG, today=TODAY), exp.Select)
    assert_type(normalize_name(" VIP "), str)
    assert_type(name_key("VIP"), str)
