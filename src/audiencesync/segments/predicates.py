"""The SQL of one rule condition on one column.

Every condition is TRUE or FALSE, never NULL: a condition on an empty value
(NULL, or text with nothing but spaces, tabs and line breaks) is false, except
``is_empty``. So each test is guarded by ``NOT <empty> AND ...`` and ``not`` is
the exact complement.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from sqlglot import exp

from audiencesync.errors import RuleError
from audiencesync.profiles.catalog import Column, ColumnKind
from audiencesync.segments.description import describe_condition
from audiencesync.segments.literals import Operands, operands
from audiencesync.segments.model import Condition
from audiencesync.segments.operators import kinds_of
from audiencesync.segments.sql import as_day, blank_test, day_literal
from audiencesync.segments.values import parse_day

_KIND_NAMES = {
    ColumnKind.TEXT: "text",
    ColumnKind.INTEGER: "whole numbers",
    ColumnKind.NUMBER: "numbers",
    ColumnKind.BOOLEAN: "true/false",
    ColumnKind.DATE: "dates",
    ColumnKind.TIMESTAMP: "timestamps",
    ColumnKind.OTHER: "other types",
}

_COMPARISONS: dict[str, type[exp.Binary]] = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    ">": exp.GT,
    ">=": exp.GTE,
    "<": exp.LT,
    "<=": exp.LTE,
}


def predicate(
    cond: Condition, column: Column, ref: exp.Expr, *, today: date
) -> exp.Expr:
    """``cond`` on the column ``ref`` points at, as a never-NULL SQL condition.

    ``cond`` must have the value shape its operator takes (:func:`parse_rules`
    guarantees it); this checks the operator and value against the column.
    """
    _check_kind(cond, column)
    blank = blank_test(ref, is_text=column.kind is ColumnKind.TEXT)
    if cond.op == "is_empty":
        return blank
    if cond.op == "is_not_empty":
        return exp.not_(blank)
    return exp.and_(exp.not_(blank), _test(cond, column, ref, today=today))


def _check_kind(cond: Condition, column: Column) -> None:
    kinds = kinds_of(cond.op)
    if column.kind in kinds:
        return
    if column.kind is ColumnKind.OTHER:
        reason = (
            f"{column.name} has type {column.sql_type}, which segments can only"
            ' test with "is_empty" or "is_not_empty"'
        )
    elif column.kind is ColumnKind.BOOLEAN:
        reason = (
            f'"{cond.op}" does not work on true/false columns like {column.name}:'
            ' use "=" with true or false'
        )
    else:
        works_on = ", ".join(sorted({_KIND_NAMES[kind] for kind in kinds}))
        reason = (
            f'"{cond.op}" works on {works_on} only, and {column.name} holds'
            f" {_KIND_NAMES[column.kind]}"
        )
    msg = f'Condition "{describe_condition(cond)}": {reason}.'
    raise RuleError(msg)


def _test(cond: Condition, column: Column, ref: exp.Expr, *, today: date) -> exp.Expr:
    op = cond.op
    if op == "in_last_days":
        start = today - timedelta(days=cast("int", cond.value))
        return exp.Between(
            this=_day_of(ref, column), low=day_literal(start), high=day_literal(today)
        )
    if op in {"before", "after"}:
        day = cast("date", parse_day(str(cond.value)))
        comparison = exp.LT if op == "before" else exp.GT
        return comparison(this=_day_of(ref, column), expression=day_literal(day))
    found = operands(cond, column, ref)
    if op in _COMPARISONS:
        return _COMPARISONS[op](this=found.subject, expression=found.literals[0])
    return _SET_AND_TEXT_TESTS[op](found)


def _day_of(ref: exp.Expr, column: Column) -> exp.Expr:
    return as_day(ref) if column.kind is ColumnKind.TIMESTAMP else ref


def _between(found: Operands) -> exp.Expr:
    low, high = found.literals
    return exp.Between(this=found.subject, low=low, high=high)


def _in(found: Operands) -> exp.Expr:
    return exp.In(this=found.subject, expressions=list(found.literals))


def _not_in(found: Operands) -> exp.Expr:
    return exp.not_(_in(found))


def _position(found: Operands) -> exp.Expr:
    return exp.StrPosition(this=exp.Lower(this=found.subject), substr=_needle(found))


def _needle(found: Operands) -> exp.Expr:
    return exp.Lower(this=found.literals[0].copy())


def _contains(found: Operands) -> exp.Expr:
    return exp.GT(this=_position(found), expression=exp.Literal.number(0))


def _starts_with(found: Operands) -> exp.Expr:
    return exp.EQ(this=_position(found), expression=exp.Literal.number(1))


def _ends_with(found: Operands) -> exp.Expr:
    tail = exp.Right(
        this=exp.Lower(this=found.subject), expression=exp.Length(this=_needle(found))
    )
    return exp.EQ(this=tail, expression=_needle(found))


_SET_AND_TEXT_TESTS = {
    "between": _between,
    "in": _in,
    "not_in": _not_in,
    "contains": _contains,
    "starts_with": _starts_with,
    "ends_with": _ends_with,
}
