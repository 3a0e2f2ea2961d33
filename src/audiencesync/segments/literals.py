"""Turning a condition's values into typed SQL literals for its column's kind.

This is where ``country > 5`` is refused: each value must fit the column (text
for text, a number for numbers, true/false for booleans, an ISO date for dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from sqlglot import exp

from audiencesync.errors import RuleError
from audiencesync.profiles.catalog import Column, ColumnKind
from audiencesync.segments.description import describe_condition
from audiencesync.segments.model import Condition
from audiencesync.segments.sql import (
    as_day,
    day_literal,
    instant_literal,
    number_literal,
    text_literal,
)
from audiencesync.segments.values import (
    is_blank,
    is_number,
    number_from_text,
    number_text,
    parse_day,
    parse_instant,
    to_number,
)


@dataclass(frozen=True, slots=True)
class Operands:
    """What a condition compares: the column side and one literal per value."""

    subject: exp.Expr
    literals: tuple[exp.Expr, ...]


def operands(cond: Condition, column: Column, ref: exp.Expr) -> Operands:
    """The subject and literals of ``cond``; RuleError when a value does not fit."""
    values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
    if column.kind is ColumnKind.TIMESTAMP:
        return _timestamp_operands(cond, column, ref, values)
    pairs = [_literal(cond, column, value) for value in values]
    _check_order(cond, [key for _, key in pairs])
    return Operands(subject=ref, literals=tuple(lit for lit, _ in pairs))


def _literal(cond: Condition, column: Column, value: object) -> tuple[exp.Expr, Any]:
    kind = column.kind
    if kind is ColumnKind.TEXT and isinstance(value, str):
        if is_blank(value):
            _refuse(
                cond,
                "the value is empty. To match profiles without"
                f' {column.name}, use "is_empty"',
            )
        return text_literal(value), None
    if kind.is_numeric and is_number(value):
        return number_literal(value), value
    if kind is ColumnKind.BOOLEAN and isinstance(value, bool):
        return exp.Boolean(this=value), None
    if kind is ColumnKind.DATE and isinstance(value, str) and (day := parse_day(value)):
        return day_literal(day), day
    _refuse(cond, _mismatch(column, value))


def _timestamp_operands(
    cond: Condition, column: Column, ref: exp.Expr, values: tuple[object, ...]
) -> Operands:
    texts = [value if isinstance(value, str) else "" for value in values]
    days = [parse_day(text) for text in texts]
    if all(days):
        _check_order(cond, days)
        return Operands(as_day(ref), tuple(day_literal(d) for d in days if d))
    instants = [parse_instant(text) for text in texts]
    if all(instants):
        _check_order(cond, instants)
        return Operands(ref, tuple(instant_literal(i) for i in instants if i))
    if any(days) and any(instants):
        _refuse(
            cond,
            f"write every value for {column.name} the same way: all dates"
            ' "YYYY-MM-DD" or all dates and times "YYYY-MM-DDTHH:MM:SS"',
        )
    bad = next(
        value
        for value, d, i in zip(values, days, instants, strict=True)
        if not (d or i)
    )
    _refuse(cond, _mismatch(column, bad))


def _check_order(cond: Condition, keys: list[Any]) -> None:
    # Keys are numbers, days or instants of one kind; None (text) is not checked.
    if cond.op != "between" or None in keys:
        return
    low, high = keys
    if low > high:
        _refuse(cond, "the low value is above the high value: write [low, high]")


def _mismatch(column: Column, value: object) -> str:
    name = column.name
    if column.kind is ColumnKind.TEXT:
        example = value if isinstance(value, str) else _plain(value)
        return f'{name} is text, so compare it with text in quotes, e.g. "{example}"'
    if column.kind.is_numeric:
        number = number_from_text(value) if isinstance(value, str) else to_number(value)
        example = number_text(number) if number is not None else "100"
        return (
            f"{name} is a number, so compare it with a number without quotes,"
            f" e.g. {example}"
        )
    if column.kind is ColumnKind.BOOLEAN:
        return f"{name} is true/false, so compare it with true or false (no quotes)"
    detail = (
        f'"{value}" is not a valid date'
        if isinstance(value, str)
        else f"{name} holds dates"
    )
    if column.kind is ColumnKind.DATE:
        return f'{detail}; write dates as text "YYYY-MM-DD", e.g. "2026-01-31"'
    return (
        f'{detail}; write dates as text "YYYY-MM-DD" or dates and times as'
        ' "YYYY-MM-DDTHH:MM:SS", e.g. "2026-01-31T18:00:00"'
    )


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return number_text(value) if is_number(value) else str(value)


def _refuse(cond: Condition, reason: str) -> NoReturn:
    msg = f'Condition "{describe_condition(cond)}": {reason}.'
    raise RuleError(msg)
