"""The operators of the rule language: their names, value shapes and column kinds.

Each operator takes one *shape* of value (none, one scalar, a pair, a list, a day
count or a day) and works on some column kinds. Parsing checks the shape, which
needs no schema; compiling checks the kind against the catalog.
"""

from __future__ import annotations

import difflib
import enum

from audiencesync.profiles.catalog import ColumnKind


class Shape(enum.Enum):
    """What an operator's ``value`` looks like in the rules JSON."""

    NONE = "no value"
    SCALAR = "one value"
    PAIR = "a list of two values [low, high]"
    LIST = "a non-empty list of values"
    DAYS = "a whole number of days"
    DAY = 'a date "YYYY-MM-DD"'


OPERATORS: tuple[str, ...] = (
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "between",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "is_empty",
    "is_not_empty",
    "in_last_days",
    "before",
    "after",
)

_SHAPES: dict[str, Shape] = {
    "between": Shape.PAIR,
    "in": Shape.LIST,
    "not_in": Shape.LIST,
    "is_empty": Shape.NONE,
    "is_not_empty": Shape.NONE,
    "in_last_days": Shape.DAYS,
    "before": Shape.DAY,
    "after": Shape.DAY,
}

_ORDERED = frozenset(
    {
        ColumnKind.TEXT,
        ColumnKind.INTEGER,
        ColumnKind.NUMBER,
        ColumnKind.DATE,
        ColumnKind.TIMESTAMP,
    }
)
_TEXT = frozenset({ColumnKind.TEXT})
_TEMPORAL = frozenset({ColumnKind.DATE, ColumnKind.TIMESTAMP})
_EVERY = frozenset(ColumnKind)

_KINDS: dict[str, frozenset[ColumnKind]] = {
    "=": _ORDERED | {ColumnKind.BOOLEAN},
    "!=": _ORDERED | {ColumnKind.BOOLEAN},
    "contains": _TEXT,
    "starts_with": _TEXT,
    "ends_with": _TEXT,
    "is_empty": _EVERY,
    "is_not_empty": _EVERY,
    "in_last_days": _TEMPORAL,
    "before": _TEMPORAL,
    "after": _TEMPORAL,
}

# Spellings people reach for, mapped to the operator they mean.
_ALIASES: dict[str, str] = {
    "==": "=",
    "eq": "=",
    "equals": "=",
    "is": "=",
    "<>": "!=",
    "ne": "!=",
    "not_equals": "!=",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "not in": "not_in",
    "nin": "not_in",
    "like": "contains",
    "startswith": "starts_with",
    "endswith": "ends_with",
    "is_null": "is_empty",
    "is null": "is_empty",
    "empty": "is_empty",
    "is_not_null": "is_not_empty",
    "not_empty": "is_not_empty",
    "last_days": "in_last_days",
}

MAX_LIST_ITEMS = 1000
MAX_DAYS = 36500


def shape_of(op: str) -> Shape:
    """The value shape ``op`` takes (``op`` must be a known operator)."""
    return _SHAPES.get(op, Shape.SCALAR)


def kinds_of(op: str) -> frozenset[ColumnKind]:
    """The column kinds ``op`` works on."""
    return _KINDS.get(op, _ORDERED)


def suggest_operator(op: str) -> str | None:
    """The operator a mistyped ``op`` most likely meant, if any."""
    lowered = op.strip().lower()
    if lowered in OPERATORS:
        return lowered
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    close = difflib.get_close_matches(lowered, OPERATORS, n=1, cutoff=0.6)
    return close[0] if close else None
