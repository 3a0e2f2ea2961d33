"""The operator table: every operator on every kind it supports, and every group form.

Each case pairs a rules document with a plain-Python predicate written by hand
from the documented semantics (docs/segments.md), never from the compiler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tests.segments.data import TODAY, Customer
from tests.segments.reference import (
    blank,
    given,
    purchases_of,
    tickets_of,
    within_days,
)

Predicate = Callable[[Customer], bool]


@dataclass(frozen=True, slots=True)
class Case:
    """A rules document and who it must select."""

    id: str
    rules: dict[str, object]
    expected: Predicate


def cond(field: str, op: str, value: object = None) -> dict[str, object]:
    """One condition of the rules JSON."""
    data: dict[str, object] = {"field": field, "op": op}
    if value is not None:
        data["value"] = value
    return data


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _seen_day(row: Customer, test: Callable[[date], bool]) -> bool:
    return given(row.last_seen_at, lambda v: test(v.date()))


D = Decimal
TEXT_CASES = [
    Case("text = exact", cond("country", "=", "FR"), lambda r: r.country == "FR"),
    Case(
        "text = is case-sensitive",
        cond("country", "=", "fr"),
        lambda r: r.country == "fr",
    ),
    Case(
        "text = keeps trailing space",
        cond("country", "=", "FR "),
        lambda r: r.country == "FR ",
    ),
    Case(
        "text != skips empty",
        cond("country", "!=", "FR"),
        lambda r: given(r.country, lambda v: v != "FR"),
    ),
    Case(
        "text >",
        cond("postcode", ">", "70000"),
        lambda r: given(r.postcode, lambda v: v > "70000"),
    ),
    Case(
        "text >=",
        cond("postcode", ">=", "75001"),
        lambda r: given(r.postcode, lambda v: v >= "75001"),
    ),
    Case(
        "text <",
        cond("postcode", "<", "1050"),
        lambda r: given(r.postcode, lambda v: v < "1050"),
    ),
    Case(
        "text <=",
        cond("postcode", "<=", "1050"),
        lambda r: given(r.postcode, lambda v: v <= "1050"),
    ),
    Case(
        "text between inclusive",
        cond("postcode", "between", ["10001", "20095"]),
        lambda r: given(r.postcode, lambda v: "10001" <= v <= "20095"),
    ),
    Case(
        "text in",
        cond("country", "in", ["FR", "gb", "IE"]),
        lambda r: r.country in {"FR", "gb", "IE"},
    ),
    Case(
        "text not_in skips empty",
        cond("country", "not_in", ["FR", "GB"]),
        lambda r: given(r.country, lambda v: v not in {"FR", "GB"}),
    ),
    Case(
        "contains ignores case",
        cond("email", "contains", "EXAMPLE.COM"),
        lambda r: given(r.email, lambda v: "example.com" in v.lower()),
    ),
    Case(
        "contains % literally",
        cond("email", "contains", "%"),
        lambda r: given(r.email, lambda v: "%" in v),
    ),
    Case(
        "contains _ literally",
        cond("email", "contains", "_"),
        lambda r: given(r.email, lambda v: "_" in v),
    ),
    Case(
        "contains quote",
        cond("email", "contains", "'"),
        lambda r: given(r.email, lambda v: "'" in v),
    ),
    Case(
        "contains backslash",
        cond("email", "contains", "\\"),
        lambda r: given(r.email, lambda v: "\\" in v),
    ),
    Case(
        "contains double quote",
        cond("email", "contains", '"'),
        lambda r: given(r.email, lambda v: '"' in v),
    ),
    Case(
        "starts_with ignores case",
        cond("email", "starts_with", "ANA@"),
        lambda r: given(r.email, lambda v: v.lower().startswith("ana@")),
    ),
    Case(
        "starts_with % literally",
        cond("email", "starts_with", "100%_"),
        lambda r: given(r.email, lambda v: v.startswith("100%_")),
    ),
    Case(
        "starts_with counts spaces",
        cond("email", "starts_with", "  padded"),
        lambda r: given(r.email, lambda v: v.startswith("  padded")),
    ),
    Case(
        "ends_with ignores case",
        cond("email", "ends_with", "@Example.COM"),
        lambda r: given(r.email, lambda v: v.lower().endswith("@example.com")),
    ),
    Case(
        "ends_with _ literally",
        cond("email", "ends_with", "_"),
        lambda r: given(r.email, lambda v: v.endswith("_")),
    ),
    Case(
        "ends_with longer than some values",
        cond("email", "ends_with", "A%B@X.IO"),
        lambda r: given(r.email, lambda v: v.lower().endswith("a%b@x.io")),
    ),
    Case("text is_empty", cond("email", "is_empty"), lambda r: blank(r.email)),
    Case(
        "text is_not_empty", cond("email", "is_not_empty"), lambda r: not blank(r.email)
    ),
    Case(
        "text = unicode",
        cond("email", "=", "élodie@exemple.fr"),
        lambda r: r.email == "élodie@exemple.fr",
    ),
]

NUMBER_CASES = [
    Case("integer =", cond("orders", "=", 0), lambda r: r.orders == 0),
    Case(
        "integer != skips empty",
        cond("orders", "!=", 0),
        lambda r: given(r.orders, lambda v: v != 0),
    ),
    Case(
        "integer >", cond("orders", ">", 2), lambda r: given(r.orders, lambda v: v > 2)
    ),
    Case(
        "integer >=",
        cond("orders", ">=", 2),
        lambda r: given(r.orders, lambda v: v >= 2),
    ),
    Case(
        "integer <", cond("orders", "<", 2), lambda r: given(r.orders, lambda v: v < 2)
    ),
    Case(
        "integer <= negative",
        cond("orders", "<=", -1),
        lambda r: given(r.orders, lambda v: v <= -1),
    ),
    Case(
        "integer between",
        cond("orders", "between", [0, 5]),
        lambda r: given(r.orders, lambda v: 0 <= v <= 5),
    ),
    Case(
        "integer in",
        cond("orders", "in", [0, 1, 100]),
        lambda r: r.orders in {0, 1, 100},
    ),
    Case(
        "integer not_in",
        cond("orders", "not_in", [0, 1, 100]),
        lambda r: given(r.orders, lambda v: v not in {0, 1, 100}),
    ),
    Case("integer = fraction", cond("orders", "=", D("1.5")), lambda _: False),
    Case(
        "integer < fraction",
        cond("orders", "<", D("0.5")),
        lambda r: given(r.orders, lambda v: v < D("0.5")),
    ),
    Case("integer is_empty", cond("orders", "is_empty"), lambda r: r.orders is None),
    Case(
        "integer is_not_empty",
        cond("orders", "is_not_empty"),
        lambda r: r.orders is not None,
    ),
    Case(
        "number > boundary",
        cond("lifetime_value", ">", 1000),
        lambda r: given(r.lifetime_value, lambda v: v > 1000),
    ),
    Case(
        "number >= boundary",
        cond("lifetime_value", ">=", 1000),
        lambda r: given(r.lifetime_value, lambda v: v >= 1000),
    ),
    Case(
        "number = exact decimal",
        cond("lifetime_value", "=", D("1000.10")),
        lambda r: r.lifetime_value == D("1000.10"),
    ),
    Case(
        "number = integer",
        cond("lifetime_value", "=", 1000),
        lambda r: r.lifetime_value == 1000,
    ),
    Case(
        "number != skips empty",
        cond("lifetime_value", "!=", 1000),
        lambda r: given(r.lifetime_value, lambda v: v != 1000),
    ),
    Case(
        "number < zero",
        cond("lifetime_value", "<", 0),
        lambda r: given(r.lifetime_value, lambda v: v < 0),
    ),
    Case(
        "number <= negative",
        cond("lifetime_value", "<=", D("-0.01")),
        lambda r: given(r.lifetime_value, lambda v: v <= D("-0.01")),
    ),
    Case(
        "number between",
        cond("lifetime_value", "between", [D("999.99"), D("1000.01")]),
        lambda r: given(r.lifetime_value, lambda v: D("999.99") <= v <= D("1000.01")),
    ),
    Case(
        "number in",
        cond("lifetime_value", "in", [0, 250, D("1000.1")]),
        lambda r: r.lifetime_value in {0, 250, D("1000.1")},
    ),
    Case(
        "number not_in",
        cond("lifetime_value", "not_in", [0, 1000]),
        lambda r: given(r.lifetime_value, lambda v: v not in {0, 1000}),
    ),
    Case(
        "number is_empty",
        cond("lifetime_value", "is_empty"),
        lambda r: r.lifetime_value is None,
    ),
]

BOOLEAN_AND_OTHER_CASES = [
    Case(
        "boolean = true",
        cond("marketing_consent", "=", True),
        lambda r: r.marketing_consent is True,
    ),
    Case(
        "boolean = false",
        cond("marketing_consent", "=", False),
        lambda r: r.marketing_consent is False,
    ),
    Case(
        "boolean != true skips empty",
        cond("marketing_consent", "!=", True),
        lambda r: r.marketing_consent is False,
    ),
    Case(
        "boolean is_empty",
        cond("marketing_consent", "is_empty"),
        lambda r: r.marketing_consent is None,
    ),
    Case(
        "boolean is_not_empty",
        cond("marketing_consent", "is_not_empty"),
        lambda r: r.marketing_consent is not None,
    ),
    Case("other is_empty", cond("avatar", "is_empty"), lambda r: r.avatar is None),
    Case(
        "other is_not_empty (empty bytes count)",
        cond("avatar", "is_not_empty"),
        lambda r: r.avatar is not None,
    ),
]

DATE_CASES = [
    Case(
        "date =",
        cond("birth_date", "=", "2000-02-29"),
        lambda r: r.birth_date == _day("2000-02-29"),
    ),
    Case(
        "date !=",
        cond("birth_date", "!=", "1999-12-31"),
        lambda r: given(r.birth_date, lambda v: v != _day("1999-12-31")),
    ),
    Case(
        "date >",
        cond("birth_date", ">", "2026-06-14"),
        lambda r: given(r.birth_date, lambda v: v > _day("2026-06-14")),
    ),
    Case(
        "date >=",
        cond("birth_date", ">=", "2026-06-14"),
        lambda r: given(r.birth_date, lambda v: v >= _day("2026-06-14")),
    ),
    Case(
        "date <",
        cond("birth_date", "<", "1985-06-15"),
        lambda r: given(r.birth_date, lambda v: v < _day("1985-06-15")),
    ),
    Case(
        "date <=",
        cond("birth_date", "<=", "1985-06-15"),
        lambda r: given(r.birth_date, lambda v: v <= _day("1985-06-15")),
    ),
    Case(
        "date between",
        cond("birth_date", "between", ["1990-01-01", "2000-01-01"]),
        lambda r: given(
            r.birth_date, lambda v: _day("1990-01-01") <= v <= _day("2000-01-01")
        ),
    ),
    Case(
        "date in",
        cond("birth_date", "in", ["1999-12-31", "2026-06-15"]),
        lambda r: r.birth_date in {_day("1999-12-31"), _day("2026-06-15")},
    ),
    Case(
        "date not_in",
        cond("birth_date", "not_in", ["1999-12-31"]),
        lambda r: given(r.birth_date, lambda v: v != _day("1999-12-31")),
    ),
    Case(
        "date before is strict",
        cond("birth_date", "before", "2000-01-01"),
        lambda r: given(r.birth_date, lambda v: v < _day("2000-01-01")),
    ),
    Case(
        "date after is strict",
        cond("birth_date", "after", "2026-06-14"),
        lambda r: given(r.birth_date, lambda v: v > _day("2026-06-14")),
    ),
    Case(
        "date in_last_days 1",
        cond("birth_date", "in_last_days", 1),
        lambda r: within_days(r.birth_date, 1),
    ),
    Case(
        "date in_last_days 30",
        cond("birth_date", "in_last_days", 30),
        lambda r: within_days(r.birth_date, 30),
    ),
    Case(
        "date in_last_days 36500",
        cond("birth_date", "in_last_days", 36500),
        lambda r: within_days(r.birth_date, 36500),
    ),
    Case(
        "date is_empty", cond("birth_date", "is_empty"), lambda r: r.birth_date is None
    ),
]

TIMESTAMP_CASES = [
    Case(
        "timestamp = day",
        cond("last_seen_at", "=", "2026-06-14"),
        lambda r: _seen_day(r, lambda d: d == _day("2026-06-14")),
    ),
    Case(
        "timestamp = instant",
        cond("last_seen_at", "=", "2026-06-15T09:30:00"),
        lambda r: r.last_seen_at == _at("2026-06-15 09:30:00"),
    ),
    Case(
        "timestamp != day",
        cond("last_seen_at", "!=", "2026-06-14"),
        lambda r: _seen_day(r, lambda d: d != _day("2026-06-14")),
    ),
    Case(
        "timestamp > day",
        cond("last_seen_at", ">", "2026-06-14"),
        lambda r: _seen_day(r, lambda d: d > _day("2026-06-14")),
    ),
    Case(
        "timestamp >= instant",
        cond("last_seen_at", ">=", "2026-06-14T23:59:59"),
        lambda r: given(r.last_seen_at, lambda v: v >= _at("2026-06-14 23:59:59")),
    ),
    Case(
        "timestamp < day",
        cond("last_seen_at", "<", "2026-01-01"),
        lambda r: _seen_day(r, lambda d: d < _day("2026-01-01")),
    ),
    Case(
        "timestamp <= day",
        cond("last_seen_at", "<=", "2026-01-01"),
        lambda r: _seen_day(r, lambda d: d <= _day("2026-01-01")),
    ),
    Case(
        "timestamp between days",
        cond("last_seen_at", "between", ["2026-05-16", "2026-06-14"]),
        lambda r: _seen_day(r, lambda d: _day("2026-05-16") <= d <= _day("2026-06-14")),
    ),
    Case(
        "timestamp between instants",
        cond("last_seen_at", "between", ["2026-05-16T00:00:01", "2026-06-15T09:30:00"]),
        lambda r: given(
            r.last_seen_at,
            lambda v: _at("2026-05-16 00:00:01") <= v <= _at("2026-06-15 09:30:00"),
        ),
    ),
    Case(
        "timestamp in days",
        cond("last_seen_at", "in", ["2026-06-15", "2026-01-01"]),
        lambda r: _seen_day(r, lambda d: d in {_day("2026-06-15"), _day("2026-01-01")}),
    ),
    Case(
        "timestamp not_in days",
        cond("last_seen_at", "not_in", ["2026-06-15"]),
        lambda r: _seen_day(r, lambda d: d != _day("2026-06-15")),
    ),
    Case(
        "timestamp before day",
        cond("last_seen_at", "before", "2026-06-15"),
        lambda r: _seen_day(r, lambda d: d < _day("2026-06-15")),
    ),
    Case(
        "timestamp after day",
        cond("last_seen_at", "after", "2026-06-14"),
        lambda r: _seen_day(r, lambda d: d > _day("2026-06-14")),
    ),
    Case(
        "timestamp in_last_days 30",
        cond("last_seen_at", "in_last_days", 30),
        lambda r: given(r.last_seen_at, lambda v: within_days(v.date(), 30)),
    ),
    Case(
        "timestamp in_last_days 1",
        cond("last_seen_at", "in_last_days", 1),
        lambda r: given(r.last_seen_at, lambda v: within_days(v.date(), 1)),
    ),
    Case(
        "timestamp is_not_empty",
        cond("last_seen_at", "is_not_empty"),
        lambda r: r.last_seen_at is not None,
    ),
]


def _recent_big(row: Customer) -> bool:
    return any(
        within_days(p.purchased_at, 30) and given(p.amount, lambda a: a > 100)
        for p in purchases_of(row)
    )


def _web_with_open_ticket(row: Customer) -> bool:
    web = any(p.channel == "web" for p in purchases_of(row))
    return web and any(t.status == "open" for t in tickets_of(row))


FR = cond("country", "=", "FR")
GROUP_CASES = [
    Case(
        "all",
        {"all": [FR, cond("orders", ">", 0)]},
        lambda r: r.country == "FR" and given(r.orders, lambda v: v > 0),
    ),
    Case(
        "any",
        {"any": [FR, cond("lifetime_value", ">", 1000)]},
        lambda r: r.country == "FR" or given(r.lifetime_value, lambda v: v > 1000),
    ),
    Case("single-item group", {"any": [FR]}, lambda r: r.country == "FR"),
    Case("not", {"not": FR}, lambda r: r.country != "FR"),
    Case(
        "not of is_empty",
        {"not": cond("email", "is_empty")},
        lambda r: not blank(r.email),
    ),
    Case(
        "not of group",
        {"not": {"all": [FR, cond("marketing_consent", "=", True)]}},
        lambda r: not (r.country == "FR" and r.marketing_consent is True),
    ),
    Case(
        "nested groups",
        {
            "all": [
                {
                    "any": [
                        cond("country", "in", ["FR", "DE"]),
                        cond("orders", ">=", 30),
                    ]
                },
                {"not": cond("email", "ends_with", "@example.com")},
                {
                    "any": [
                        cond("marketing_consent", "=", True),
                        cond("birth_date", "is_empty"),
                    ]
                },
            ]
        },
        lambda r: (
            (r.country in {"FR", "DE"} or given(r.orders, lambda v: v >= 30))
            and not given(r.email, lambda v: v.lower().endswith("@example.com"))
            and (r.marketing_consent is True or r.birth_date is None)
        ),
    ),
    Case(
        "deep nesting",
        {"not": {"any": [{"not": {"all": [{"not": FR}]}}]}},
        lambda r: r.country != "FR",
    ),
    Case(
        "exists without conditions",
        {"exists": {"table": "purchases"}},
        lambda r: bool(purchases_of(r)),
    ),
    Case(
        "exists all",
        {
            "exists": {
                "table": "purchases",
                "all": [
                    cond("purchased_at", "in_last_days", 30),
                    cond("amount", ">", 100),
                ],
            }
        },
        _recent_big,
    ),
    Case(
        "exists any",
        {
            "exists": {
                "table": "purchases",
                "any": [cond("channel", "=", "app"), cond("amount", ">=", 500)],
            }
        },
        lambda r: any(
            p.channel == "app" or given(p.amount, lambda a: a >= 500)
            for p in purchases_of(r)
        ),
    ),
    Case(
        "not exists",
        {"not": {"exists": {"table": "purchases"}}},
        lambda r: not purchases_of(r),
    ),
    Case(
        "exists on a table keyed by another column",
        {"exists": {"table": "tickets", "all": [cond("status", "=", "open")]}},
        lambda r: any(t.status == "open" for t in tickets_of(r)),
    ),
    Case(
        "exists with timestamp in_last_days",
        {"exists": {"table": "tickets", "all": [cond("opened_at", "in_last_days", 7)]}},
        lambda r: any(
            given(t.opened_at, lambda v: within_days(v.date(), 7))
            for t in tickets_of(r)
        ),
    ),
    Case(
        "nested exists",
        {
            "exists": {
                "table": "purchases",
                "all": [
                    cond("channel", "=", "web"),
                    {
                        "exists": {
                            "table": "tickets",
                            "all": [cond("status", "=", "open")],
                        }
                    },
                ],
            }
        },
        _web_with_open_ticket,
    ),
    Case(
        "exists beside profile conditions",
        {
            "any": [
                {"all": [FR, {"exists": {"table": "purchases"}}]},
                {"exists": {"table": "tickets", "all": [cond("status", "is_empty")]}},
            ]
        },
        lambda r: (
            (r.country == "FR" and bool(purchases_of(r)))
            or any(blank(t.status) for t in tickets_of(r))
        ),
    ),
]

CASES = (
    TEXT_CASES
    + NUMBER_CASES
    + BOOLEAN_AND_OTHER_CASES
    + DATE_CASES
    + TIMESTAMP_CASES
    + GROUP_CASES
)

# Cases that select no one on purpose (the value is never present).
SELECT_NOBODY = {"integer = fraction"}

__all__ = ["CASES", "SELECT_NOBODY", "TODAY", "Case", "cond"]
