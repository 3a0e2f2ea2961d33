"""Validation: every invalid definition is refused with a message a marketer reads."""

from __future__ import annotations

import pytest

from audiencesync.errors import ConfigError, RuleError
from audiencesync.profiles.catalog import Catalog, Column, ColumnKind, Table
from audiencesync.segments import (
    Condition,
    RulesDefinition,
    members_query,
    parse_rules,
    parse_rules_text,
    parse_where,
)
from tests.segments.data import CATALOG, TODAY

FR: dict[str, object] = {"field": "country", "op": "=", "value": "FR"}


def _c(field: str, op: str, value: object = None) -> dict[str, object]:
    data: dict[str, object] = {"field": field, "op": op}
    if value is not None:
        data["value"] = value
    return data


def _nested_not(node: dict[str, object], depth: int) -> dict[str, object]:
    for _ in range(depth):
        node = {"not": node}
    return node


def compile_rules(data: object) -> None:
    """Parse and compile ``data`` against the test catalog."""
    members_query(parse_rules(data), CATALOG, today=TODAY)


SHAPE_ERRORS = [
    ("not an object", ["x"], r"Expected a condition or a group at rules, got a list"),
    ("unknown keys", {"foo": 1}, r'found "foo"\. Use "field"/"op"/"value"'),
    (
        "misspelt key",
        {**FR, "valeu": 1},
        r'Unexpected "valeu" at rules: A condition has only "field", "op", "value"',
    ),
    ("missing field", {"op": "=", "value": 1}, r'needs "field": the name of a column'),
    (
        "missing op",
        {"field": "country", "value": 1},
        r"Expected an operator at rules \u203a op",
    ),
    (
        "unknown operator with suggestion",
        _c("country", "equals", "FR"),
        r'Unknown operator "equals" at rules \u203a op\. Did you mean "="\?'
        r" Valid operators: =, !=,",
    ),
    (
        "misspelt operator",
        _c("email", "start_with", "a"),
        r'Did you mean "starts_with"\?',
    ),
    (
        "unknown operator without suggestion",
        _c("country", "~~", "FR"),
        r'Unknown operator "~~" at rules \u203a op\. Valid operators',
    ),
    (
        "path into groups",
        {"all": [FR, FR, {"any": [FR, _c("country", "bad", 1)]}]},
        r"at rules \u203a all\[2\] \u203a any\[1\] \u203a op",
    ),
    (
        "path into exists",
        {"exists": {"table": "purchases", "all": [_c("amount", "??", 1)]}},
        r"at rules \u203a exists \u203a all\[0\] \u203a op",
    ),
    (
        "empty group",
        {"any": [FR, {"all": []}]},
        r'The "all" group at rules \u203a any\[1\] is empty: add at least one'
        r" condition or"
        r" remove the group\.",
    ),
    ("group not a list", {"all": FR}, r'The "all" group at rules must hold a list'),
    ("group of true", {"any": True}, r"must hold a list of conditions, got true/false"),
    ("group of a number", {"any": 5}, r"must hold a list of conditions, got a number"),
    ("operator in capitals", _c("country", "IN", ["FR"]), r'Did you mean "in"\?'),
    ("decimal object of a number", _c("orders", "=", {"decimal": 5}), r"digits"),
    ("two group keys", {"all": [FR], "any": [FR]}, r'Unexpected "any" at rules'),
    (
        "is_empty with a value",
        _c("email", "is_empty", "x"),
        r'"is_empty" takes no value, but rules \u203a value has one: remove "value"',
    ),
    (
        "missing value",
        _c("country", "="),
        r'"=" needs one value at rules \u203a value\. To'
        r' match profiles without a value, use "is_empty"',
    ),
    (
        "list for a single value",
        _c("country", "=", ["FR", "DE"]),
        r'To match any of several values, use "in"',
    ),
    ("object value", _c("country", "=", {"x": 1}), r"got an object"),
    ("bad decimal object", _c("orders", "=", {"decimal": "abc"}), r"must hold digits"),
    ("NUL character", _c("email", "=", "a\x00b"), r"NUL character"),
    ("between one value", _c("orders", "between", [1]), r"needs a list of two values"),
    ("between not a list", _c("orders", "between", 5), r"needs a list of two values"),
    ("in empty list", _c("country", "in", []), r'"in" needs a non-empty list'),
    ("in too many", _c("orders", "in", list(range(1001))), r"at most 1000 values"),
    (
        "in null item",
        _c("country", "in", ["FR", None]),
        r"rules \u203a value\[1\] is null",
    ),
    ("in nested list", _c("country", "in", [["FR"]]), r"value\[0\] is a list"),
    ("in_last_days zero", _c("birth_date", "in_last_days", 0), r"from 1 to 36500"),
    (
        "in_last_days too many",
        _c("birth_date", "in_last_days", 36501),
        r"from 1 to 36500",
    ),
    ("in_last_days text", _c("birth_date", "in_last_days", "30"), r"from 1 to 36500"),
    ("in_last_days fraction", _c("birth_date", "in_last_days", 1.5), r"whole number"),
    ("in_last_days boolean", _c("birth_date", "in_last_days", True), r"whole number"),
    (
        "before a word",
        _c("birth_date", "before", "yesterday"),
        r'"before" needs a date written "YYYY-MM-DD"',
    ),
    ("after an impossible day", _c("birth_date", "after", "2025-02-29"), r"YYYY-MM-DD"),
    ("exists not an object", {"exists": "purchases"}, r'Expected \{"table": \.\.\.'),
    ("exists without table", {"exists": {"all": [FR]}}, r'needs "table"'),
    (
        "exists with both groups",
        {"exists": {"table": "purchases", "all": [FR], "any": [FR]}},
        r'either "all" or "any"',
    ),
    (
        "exists with empty group",
        {"exists": {"table": "purchases", "any": []}},
        r'The "any" group at rules \u203a exists is empty',
    ),
    ("not with extra key", {"not": FR, "x": 1}, r'Unexpected "x" at rules: A negation'),
    (
        "too deep",
        _nested_not(FR, 21),
        r"nested too deeply",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"),
    [(data, message) for _, data, message in SHAPE_ERRORS],
    ids=[label for label, _, _ in SHAPE_ERRORS],
)
def test_badly_shaped_rules_are_refused_with_their_path(
    data: object, message: str
) -> None:
    """parse_rules names the place of the mistake and how to fix it."""
    with pytest.raises(RuleError, match=message):
        parse_rules(data)


CATALOG_ERRORS = [
    (
        "unknown column with suggestion",
        _c("contry", "=", "FR"),
        r'Unknown column "contry" in table customers\. Did you mean "country"\?'
        r" \(columns: customer_id, email, country, postcode,",
    ),
    (
        "column names are case-sensitive",
        _c("Country", "=", "FR"),
        r'Unknown column "Country" .* Did you mean "country"\?',
    ),
    (
        "unknown column without suggestion",
        _c("zzz", "is_empty"),
        r'Unknown column "zzz" in table customers\. \(columns:',
    ),
    (
        "text compared with a number",
        _c("country", ">", 5),
        r'Condition "country > 5": country is text, so compare it with text in quotes,'
        r' e\.g\. "5"\.',
    ),
    ("text compared with true", _c("country", "=", True), r"country is text"),
    (
        "blank text value",
        _c("country", "=", "  "),
        r'the value is empty\. To match profiles without country, use "is_empty"',
    ),
    (
        "number compared with text",
        _c("lifetime_value", ">", "1000"),
        r'Condition "lifetime_value > "1000"": lifetime_value is a number, so'
        r" compare it"
        r" with a number without quotes, e\.g\. 1000\.",
    ),
    ("number compared with a word", _c("orders", "=", "many"), r"e\.g\. 100\."),
    ("number compared with true", _c("orders", "=", True), r"orders is a number"),
    ("number list with text", _c("orders", "in", [1, "2"]), r"orders is a number"),
    (
        "boolean compared with text",
        _c("marketing_consent", "=", "yes"),
        r"marketing_consent is true/false, so compare it with true or false"
        r" \(no quotes\)",
    ),
    ("boolean compared with 1", _c("marketing_consent", "=", 1), r"is true/false"),
    (
        "boolean ordered",
        _c("marketing_consent", ">", False),
        r'">" does not work on true/false columns like marketing_consent: use "="',
    ),
    (
        "date compared with a number",
        _c("birth_date", "=", 2024),
        r'birth_date holds dates; write dates as text "YYYY-MM-DD"',
    ),
    (
        "impossible date",
        _c("birth_date", "=", "2024-02-30"),
        r'"2024-02-30" is not a valid date; write dates as text "YYYY-MM-DD"',
    ),
    (
        "date in another format",
        _c("birth_date", ">", "31/01/2024"),
        r'"31/01/2024" is not a valid date',
    ),
    (
        "date with a time",
        _c("birth_date", "=", "2024-01-01T10:00:00"),
        r"not a valid date",
    ),
    (
        "bad timestamp",
        _c("last_seen_at", ">", "2026-06-15 25:00:00"),
        r'not a valid date; write dates as text "YYYY-MM-DD" or dates and times as'
        r' "YYYY-MM-DDTHH:MM:SS"',
    ),
    (
        "timestamp values written two ways",
        _c("last_seen_at", "between", ["2026-01-01", "2026-01-02T00:00:00"]),
        r"write every value for last_seen_at the same way",
    ),
    (
        "between reversed numbers",
        _c("orders", "between", [5, 1]),
        r"the low value is above the high value: write \[low, high\]",
    ),
    (
        "between reversed dates",
        _c("birth_date", "between", ["2020-01-02", "2020-01-01"]),
        r"the low value is above the high value",
    ),
    (
        "between reversed instants",
        _c("last_seen_at", "between", ["2020-01-01T10:00:00", "2020-01-01T09:00:00"]),
        r"the low value is above",
    ),
    (
        "contains on a number",
        _c("lifetime_value", "contains", 5),
        r'"contains" works on text only, and lifetime_value holds numbers',
    ),
    (
        "in_last_days on text",
        _c("country", "in_last_days", 3),
        r'"in_last_days" works on dates, timestamps only, and country holds text',
    ),
    (
        "other kind compared",
        _c("avatar", "=", "x"),
        r'avatar has type BLOB, which segments can only test with "is_empty" or'
        r' "is_not_empty"',
    ),
    (
        "unknown exists table",
        {"exists": {"table": "purchase"}},
        r'Unknown table "purchase"\. Did you mean "purchases"\? \(tables: customers,',
    ),
    (
        "exists table without link",
        {"exists": {"table": "events"}},
        r"Table events has no column linking its rows to profiles: it needs a column"
        r" named customer_id .* Import it again with its key column",
    ),
    (
        "unknown column inside exists",
        {"exists": {"table": "purchases", "all": [_c("amout", ">", 1)]}},
        r'Unknown column "amout" in table purchases\. Did you mean "amount"\?',
    ),
]


@pytest.mark.parametrize(
    ("data", "message"),
    [(data, message) for _, data, message in CATALOG_ERRORS],
    ids=[label for label, _, _ in CATALOG_ERRORS],
)
def test_rules_that_do_not_fit_the_catalog_are_refused(
    data: object, message: str
) -> None:
    """Compiling checks columns, kinds and values against the catalog."""
    with pytest.raises(RuleError, match=message):
        compile_rules(data)


WHERE_ERRORS = [
    ("empty", "   ", r"The condition is empty: write one such as"),
    ("too long", "country = '" + "x" * 10_000 + "'", r"too long"),
    ("unparsable", "country = ", r"Could not read the condition at line 1, column 9"),
    (
        "unparsable on line 2",
        "country = 'FR'\nAND AND orders > 1",
        r"Could not read the condition at line 2, column 5",
    ),
    ("unclosed quote", "country = 'FR", r"Check that every quote is closed"),
    (
        "trailing text",
        "country = 'FR' country",
        r"Could not read the condition at line 1",
    ),
    (
        "unknown column",
        "contry = 'FR'",
        r'Unknown column "contry" in table customers\. Did you mean "country"\?',
    ),
    (
        "text vs number",
        "country > 5",
        r"In \"country > 5\": country is text, so compare it with text in quotes",
    ),
    (
        "number vs text",
        "lifetime_value = '1000'",
        r"lifetime_value is a number, so compare it with a number without quotes,"
        r" e\.g\. 1000",
    ),
    ("boolean vs number", "marketing_consent = 1", r"compare it with TRUE or FALSE"),
    ("bad date", "birth_date > '2024-02-30'", r"'2024-02-30' is not a valid date"),
    ("date vs number", "birth_date > 2024", r"birth_date holds dates"),
    ("in list mismatch", "orders IN (1, 'two')", r"orders is a number"),
    ("between mismatch", "postcode BETWEEN 1 AND 2", r"postcode is text"),
    ("like on a number", "orders LIKE '1%'", r"LIKE works on text only"),
    ("other kind", "avatar = 'x'", r"avatar has type BLOB: test it only with IS NULL"),
    (
        "a value is not a test",
        "lifetime_value",
        r'"lifetime_value" is a value, not a test: compare it,'
        r" e\.g\. lifetime_value > 100",
    ),
    ("a literal is not a test", "country = 'FR' OR 1", r'"1" is a value, not a test'),
    (
        "uncorrelated exists",
        "EXISTS (SELECT * FROM purchases WHERE amount > 100)",
        r"The EXISTS subquery on purchases does not refer to the profile.*"
        r"purchases\.customer_id = customers\.customer_id",
    ),
    (
        "unknown qualifier",
        "x.country = 'FR'",
        r'Unknown table "x" in "x\.country": write the column bare or after one of',
    ),
    ("a date is not a test", "birth_date", r"e\.g\. birth_date > '2026-01-31'"),
    ("a text is not a test", "country", r"e\.g\. country = 'some text'"),
    ("other kind is not a test", "avatar", r"e\.g\. avatar IS NOT NULL"),
    (
        "uncorrelated exists on a table without key",
        "EXISTS (SELECT * FROM events WHERE name = 'x')",
        r"Link it to the profile in its WHERE, e\.g\. events\.customer_id =",
    ),
    (
        "rollup",
        "customer_id IN (SELECT customer_id FROM purchases GROUP BY"
        " ROLLUP (customer_id))",
        r"ROLLUP \(customer_id\)\" is not allowed",
    ),
    (
        "alias with columns",
        "EXISTS (SELECT * FROM purchases AS x(a, b) WHERE a = customers.customer_id)",
        r"Subqueries",
    ),
    ("trim with collation", "trim(country COLLATE \"C\") = 'FR'", r"not allowed"),
    (
        "aggregate outside having",
        "count(*) > 1",
        r"allowed only in HAVING of a subquery",
    ),
    (
        "in subquery with two columns",
        "customer_id IN (SELECT customer_id, amount FROM purchases)",
        r"must select exactly one column",
    ),
    (
        "star outside exists",
        "customer_id IN (SELECT * FROM purchases)",
        r"\* is allowed only as EXISTS",
    ),
    (
        "interval without unit",
        "birth_date > current_date - INTERVAL '1 day 2 hours'",
        r"write a whole number and a unit, e\.g\. INTERVAL 30 DAY",
    ),
    (
        "unknown extract unit",
        "extract(epoch FROM birth_date) > 1",
        r"unknown date part",
    ),
    (
        "unknown date_part unit",
        "date_part('epoch', birth_date) > 1",
        r"unknown date part",
    ),
]


@pytest.mark.parametrize(
    ("sql", "message"),
    [(sql, message) for _, sql, message in WHERE_ERRORS],
    ids=[label for label, _, _ in WHERE_ERRORS],
)
def test_bad_where_conditions_are_refused(sql: str, message: str) -> None:
    """parse_where and compilation explain what is wrong, and where."""
    with pytest.raises(RuleError, match=message):
        members_query(parse_where(sql), CATALOG, today=TODAY)


def test_where_exists_may_link_tables_by_any_column() -> None:
    """In SQL the user writes the link, so a table without key column is fine."""
    sql = "EXISTS (SELECT * FROM events WHERE events.name = customers.email)"
    assert members_query(parse_where(sql), CATALOG, today=TODAY) is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"field": "country", "op": "=", "value": "FR"', r"at line 1, column 46"),
        ('{"field": "country",\n "op": "=" "value": 1}', r"at line 2, column 12"),
        ('{"field": "orders", "op": ">", "value": NaN}', r"NaN, which is not a number"),
        ("[" * 100_000 + "]" * 100_000, r"nested too deeply"),
    ],
    ids=["unclosed", "missing comma", "NaN", "deep"],
)
def test_bad_json_text_is_refused_with_its_position(text: str, message: str) -> None:
    """parse_rules_text turns JSON errors into RuleError with line and column."""
    with pytest.raises(RuleError, match=message):
        parse_rules_text(text)


def test_rule_errors_are_config_errors() -> None:
    """The CLI reports a RuleError like any ConfigError (one line, exit 2)."""
    assert issubclass(RuleError, ConfigError)


def test_a_catalog_without_profiles_is_refused() -> None:
    """No profile table yet: the message says to import profiles first."""
    empty = Catalog(tables=(), profile_table="customers")
    with pytest.raises(RuleError, match="There is no profile table customers yet"):
        members_query(parse_rules(FR), empty, today=TODAY)


def test_a_profile_table_without_key_is_refused() -> None:
    """Without a key column there is nothing to export: import with a key."""
    table = Table("customers", (Column("country", ColumnKind.TEXT, "VARCHAR"),))
    catalog = Catalog(tables=(table,), profile_table="customers")
    with pytest.raises(
        RuleError, match="has no key column: import it again with a key column"
    ):
        members_query(parse_rules(FR), catalog, today=TODAY)


def test_unknown_requested_columns_are_refused() -> None:
    """members_query checks the columns asked for, with a suggestion."""
    with pytest.raises(RuleError, match=r'Unknown column "emali" .* "email"'):
        members_query(parse_rules(FR), CATALOG, columns=["emali"], today=TODAY)


def test_conditions_built_in_code_are_checked_too() -> None:
    """A Condition made without parse_rules still gets its value shape checked."""
    defn = RulesDefinition(Condition("orders", "between", (1, 2, 3)))
    with pytest.raises(RuleError, match="needs a list of two values"):
        members_query(defn, CATALOG, today=TODAY)


def test_the_rules_module_exports_the_public_api() -> None:
    """audiencesync.segments.rules is the same API as audiencesync.segments."""
    import audiencesync.segments as package  # noqa: PLC0415 - the import is the test
    from audiencesync.segments import rules  # noqa: PLC0415 - the import is the test

    for name in rules.__all__:
        assert getattr(rules, name) is getattr(package, name)
