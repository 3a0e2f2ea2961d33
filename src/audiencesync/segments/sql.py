"""Small sqlglot builders: quoted names, typed literals, day casts.

Every identifier is quoted and every value is a literal node, so nothing a user
typed is ever pasted into SQL text; each engine's dialect renders the tree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlglot import exp

from audiencesync.segments.values import BLANK_CHARACTERS, Number, number_text

PROFILE_ALIAS = "p"


def column_ref(name: str, alias: str) -> exp.Column:
    """``"alias"."name"``."""
    return exp.column(name, table=alias, quoted=True)


def table_ref(name: str, alias: str) -> exp.Table:
    """``"name" AS "alias"``."""
    return exp.Table(
        this=exp.to_identifier(name, quoted=True),
        alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
    )


def text_literal(text: str) -> exp.Literal:
    """``'text'``, escaped by the dialect that renders it."""
    return exp.Literal.string(text)


def number_literal(number: Number) -> exp.Expr:
    """A number literal written exactly (``1000.10``, never ``1.0001E3``)."""
    return exp.Literal.number(number_text(number))


def day_literal(day: date) -> exp.Cast:
    """``CAST('YYYY-MM-DD' AS DATE)``."""
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)


def instant_literal(instant: datetime) -> exp.Cast:
    """``CAST('YYYY-MM-DD HH:MM:SS' AS TIMESTAMP)``."""
    text = instant.isoformat(sep=" ")
    return exp.cast(exp.Literal.string(text), exp.DataType.Type.TIMESTAMP)


def as_day(expression: exp.Expr) -> exp.Cast:
    """``CAST(expression AS DATE)``: the calendar day of a timestamp."""
    return exp.cast(expression, exp.DataType.Type.DATE)


def blank_test(ref: exp.Expr, *, is_text: bool) -> exp.Expr:
    """True when ``ref`` is NULL or, for text, only spaces/tabs/line breaks."""
    is_null = exp.Is(this=ref.copy(), expression=exp.Null())
    if not is_text:
        return is_null
    trimmed = exp.Trim(
        this=ref.copy(), expression=text_literal(BLANK_CHARACTERS), position="BOTH"
    )
    return exp.or_(is_null, exp.EQ(this=trimmed, expression=text_literal("")))
