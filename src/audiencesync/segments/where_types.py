"""Type checks between a column and a literal in a ``--where`` condition.

``country > 5`` is refused like in rules; ``signup_date > '2024-01-31'`` is
checked to be a real date and becomes ``CAST('2024-01-31' AS DATE)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from sqlglot import exp

from audiencesync.errors import RuleError
from audiencesync.profiles.catalog import Column, ColumnKind
from audiencesync.segments.sql import day_literal, instant_literal
from audiencesync.segments.values import parse_day, parse_instant

Resolver = Callable[[exp.Expr], tuple[object, Column]]

_BINARY = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def check_operands(node: exp.Expr, resolve: Resolver) -> None:
    """Refuse a literal that cannot match its column; type date literals."""
    if isinstance(node, _BINARY):
        _check_pair(node, node.this, node.expression, resolve)
        _check_pair(node, node.expression, node.this, resolve)
    elif isinstance(node, exp.Between):
        for bound in ("low", "high"):
            _check_pair(node, node.this, node.args[bound], resolve)
    elif isinstance(node, exp.In):
        for item in node.expressions:
            _check_pair(node, node.this, item, resolve)
    elif isinstance(node, exp.Like | exp.ILike):
        _check_like(node, resolve)


def _check_pair(
    node: exp.Expr,
    subject: exp.Expr,
    other: exp.Expr,
    resolve: Resolver,
) -> None:
    if not isinstance(subject, exp.Column) or not _is_literal(other):
        return
    column = resolve(subject)[1]
    reason = _mismatch(column, other)
    if reason:
        msg = f'In "{node.sql(dialect="duckdb")}": {reason}.'
        raise RuleError(msg)
    if column.kind.is_temporal:
        other.replace(_typed(column, other))


def _check_like(node: exp.Expr, resolve: Resolver) -> None:
    subject = node.this
    if isinstance(subject, exp.Column):
        column = resolve(subject)[1]
        if column.kind is not ColumnKind.TEXT:
            msg = (
                f'In "{node.sql(dialect="duckdb")}": LIKE works on text only, and'
                f" {column.name} is not text."
            )
            raise RuleError(msg)


def _is_literal(node: exp.Expr) -> bool:
    if isinstance(node, exp.Neg):
        node = node.this
    return isinstance(node, exp.Literal | exp.Boolean)


def _mismatch(column: Column, literal: exp.Expr) -> str | None:
    name = column.name
    is_text = isinstance(literal, exp.Literal) and literal.is_string
    is_bool = isinstance(literal, exp.Boolean)
    text = literal.sql(dialect="duckdb")
    kind = column.kind
    if kind is ColumnKind.TEXT and not is_text:
        return f"{name} is text, so compare it with text in quotes, e.g. '{text}'"
    if kind.is_numeric and (is_text or is_bool):
        example = literal.name if is_text and _is_digits(literal.name) else "1000"
        return (
            f"{name} is a number, so compare it with a number without quotes,"
            f" e.g. {example}"
        )
    if kind is ColumnKind.BOOLEAN and not is_bool:
        return f"{name} is true/false, so compare it with TRUE or FALSE"
    if kind.is_temporal and not (is_text and _valid_temporal(column, literal.name)):
        detail = f"; {text} is not a valid date" if is_text else ""
        return (
            f"{name} holds dates, so compare it with a date in quotes,"
            f" e.g. '2026-01-31'{detail}"
        )
    if kind is ColumnKind.OTHER:
        return (
            f"{name} has type {column.sql_type}: test it only with IS NULL or"
            " IS NOT NULL"
        )
    return None


def _is_digits(text: str) -> bool:
    return text.strip().lstrip("-").replace(".", "", 1).isdigit()


def _valid_temporal(column: Column, text: str) -> bool:
    if column.kind is ColumnKind.DATE:
        return parse_day(text) is not None
    return parse_day(text) is not None or parse_instant(text) is not None


def _typed(column: Column, literal: exp.Expr) -> exp.Expr:
    text = literal.name
    if column.kind is ColumnKind.DATE:
        day = parse_day(text)
        return day_literal(day) if day else literal
    instant = parse_instant(text)
    if instant is not None:
        return instant_literal(instant)
    day = parse_day(text)
    return instant_literal(datetime.combine(day, time())) if day else literal
