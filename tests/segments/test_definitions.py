"""Definitions as JSON and as one human line: round trips and describe()."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiencesync.errors import RuleError
from audiencesync.segments import (
    OPERATORS,
    Condition,
    Definition,
    Exists,
    Group,
    Node,
    Not,
    RulesDefinition,
    WhereDefinition,
    definition_from_json,
    definition_to_json,
    describe,
    parse_rules,
    parse_rules_text,
    parse_where,
)
from audiencesync.segments.operators import Shape, shape_of

_TEXT = st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=20)
_NUMBERS = st.integers(min_value=-(10**30), max_value=10**30) | st.decimals(
    allow_nan=False, allow_infinity=False
)
_SCALARS = _TEXT | _NUMBERS | st.booleans()


def _value(op: str) -> st.SearchStrategy[object]:
    shape = shape_of(op)
    if shape is Shape.NONE:
        return st.none()
    if shape is Shape.PAIR:
        return st.tuples(_SCALARS, _SCALARS)
    if shape is Shape.LIST:
        return st.lists(_SCALARS, min_size=1, max_size=4).map(tuple)
    if shape is Shape.DAYS:
        return st.integers(min_value=1, max_value=36500)
    if shape is Shape.DAY:
        return st.dates().map(lambda day: day.isoformat())
    return _SCALARS


_CONDITIONS = st.builds(
    lambda field, op, data: Condition(field, op, data.draw(_value(op))),
    _TEXT.filter(str.strip),
    st.sampled_from(OPERATORS),
    st.data(),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    items = st.lists(children, min_size=1, max_size=3).map(tuple)
    groups = st.builds(Group, st.sampled_from(["all", "any"]), items)
    return (
        groups
        | st.builds(Not, children)
        | st.builds(Exists, _TEXT.filter(str.strip), st.none() | groups)
    )


_NODES: st.SearchStrategy[Node] = st.recursive(_CONDITIONS, _extend, max_leaves=8)


def _through_json(defn: Definition) -> Definition:
    """Store and load ``defn`` the way the service does (stdlib json)."""
    return definition_from_json(json.loads(json.dumps(definition_to_json(defn))))


@settings(max_examples=300)
@given(_NODES)
def test_rules_survive_a_json_round_trip(root: Node) -> None:
    """definition_from_json(definition_to_json(d)) == d, values included."""
    defn = RulesDefinition(root)
    assert _through_json(defn) == defn


@pytest.mark.parametrize(
    "sql",
    [
        "country = 'FR'",
        "lifetime_value > 1000 AND country IN ('FR', 'DE')",
        "EXISTS (SELECT * FROM purchases WHERE purchases.customer_id = c.id)",
        "email = 'o''brien@x.ie'",
    ],
)
def test_where_definitions_survive_a_json_round_trip(sql: str) -> None:
    """The SQL text is stored and read back unchanged."""
    defn = parse_where(sql)
    assert definition_to_json(defn) == {"kind": "where", "where": sql}
    assert _through_json(defn) == defn


def test_decimals_stay_exact() -> None:
    """1000.10 is read as Decimal and stored as a JSON number without loss."""
    defn = parse_rules_text('{"field": "ltv", "op": ">", "value": 1000.10}')
    assert isinstance(defn.root, Condition)
    assert defn.root.value == Decimal("1000.10")
    assert definition_to_json(defn)["rules"] == {
        "field": "ltv",
        "op": ">",
        "value": 1000.1,
    }


def test_numbers_beyond_float_precision_use_a_decimal_object() -> None:
    """A value a float would round travels as {"decimal": "..."} and comes back."""
    text = '{"field": "ltv", "op": "=", "value": 12345678901234567890.123456789}'
    defn = parse_rules_text(text)
    stored = definition_to_json(defn)
    assert stored["rules"] == {
        "field": "ltv",
        "op": "=",
        "value": {"decimal": "12345678901234567890.123456789"},
    }
    assert _through_json(defn) == defn


def test_an_exists_around_a_single_condition_is_stored_as_a_group() -> None:
    """Exists built in code with a bare condition stores it inside "all"."""
    defn = RulesDefinition(Exists("purchases", Condition("amount", ">", 1)))
    assert definition_to_json(defn)["rules"] == {
        "exists": {
            "table": "purchases",
            "all": [{"field": "amount", "op": ">", "value": 1}],
        }
    }


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "sql", "where": "x"},
        {"kind": "rules"},
        {"kind": "where", "where": 1},
        {},
    ],
    ids=["unknown kind", "rules missing", "where not text", "empty"],
)
def test_malformed_stored_definitions_are_refused(data: dict[str, object]) -> None:
    """definition_from_json says what a stored definition must look like."""
    with pytest.raises(RuleError, match='needs "kind": "rules" with "rules"'):
        definition_from_json(data)


def test_stored_definitions_are_validated_again() -> None:
    """A stored where that became invalid is refused on load."""
    with pytest.raises(RuleError, match="Comments"):
        definition_from_json({"kind": "where", "where": "x = 1 -- c"})


DESCRIPTIONS = [
    ({"all": [{"field": "country", "op": "=", "value": "FR"},
              {"field": "lifetime_value", "op": ">", "value": 1000}]},
     "country = FR and lifetime_value > 1000"),
    ({"any": [{"field": "tier", "op": "in", "value": ["gold", "platinum"]},
              {"not": {"field": "email", "op": "ends_with", "value": "@example.com"}}]},
     'tier in (gold, platinum) or not (email ends with "@example.com")'),
    ({"all": [{"field": "a", "op": "=", "value": 1},
              {"any": [{"field": "b", "op": "is_empty"},
                       {"field": "c", "op": "is_not_empty"}]}]},
     "a = 1 and (b is empty or c is not empty)"),
    ({"field": "seen", "op": "in_last_days", "value": 30}, "seen in last 30 days"),
    ({"field": "born", "op": "between", "value": ["1990-01-01", "1999-12-31"]},
     "born between 1990-01-01 and 1999-12-31"),
    ({"field": "name", "op": "=", "value": "5"}, 'name = "5"'),
    ({"field": "name", "op": "=", "value": "Jean Paul"}, 'name = "Jean Paul"'),
    ({"field": "name", "op": "=", "value": "and"}, 'name = "and"'),
    ({"field": "ok", "op": "!=", "value": True}, "ok != true"),
    ({"field": "v", "op": "starts_with", "value": "x"}, "v starts with x"),
    ({"exists": {"table": "purchases"}}, "has purchases"),
    ({"exists": {"table": "purchases", "all": [
        {"field": "amount", "op": ">", "value": 100}]}},
     "has purchases where (amount > 100)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "line"), DESCRIPTIONS, ids=[line for _, line in DESCRIPTIONS]
)
def test_describe_reads_as_one_line(data: object, line: str) -> None:
    """describe() gives a short human line for segments list/show."""
    assert describe(parse_rules(data)) == line


def test_describe_a_where_definition_normalises_its_sql() -> None:
    """A --where definition reads as its SQL on one line."""
    defn = parse_where("lifetime_value >  1000\n  and country = 'FR'")
    assert describe(defn) == "where lifetime_value > 1000 AND country = 'FR'"


def test_describe_an_invalid_stored_where_shows_its_text() -> None:
    """describe() never raises, even on text that no longer parses."""
    assert describe(WhereDefinition("country = ")) == "where country = "
