"""What a ``--where`` condition may contain: an allow-list over sqlglot's tree.

Anything not listed here is refused: statements, set operations, window
functions, table functions, parameters, unknown functions, stars (except
``SELECT *`` in EXISTS and ``count(*)`` in HAVING) and subqueries other than
``EXISTS (SELECT ... FROM t WHERE ...)`` and ``x IN (SELECT y FROM t ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlglot import exp

from audiencesync.errors import RuleError

FUNCTIONS = (
    "lower, upper, trim, length, coalesce, abs, round, cast, extract, date_part,"
    " current_date"
)
UNITS = frozenset(
    {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND"}
)
CAST_TYPES = frozenset(
    {
        exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.INT,
        exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT,
        exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT,
        exp.DataType.Type.DECIMAL, exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPNTZ,
    }
)  # fmt: skip

_TESTS: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT,
        exp.LTE, exp.Between, exp.In, exp.Is, exp.Like, exp.ILike, exp.Exists,
        exp.Escape,
        exp.Boolean, exp.Column, exp.Coalesce, exp.Paren,
    }
)  # fmt: skip
_VALUES: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.Literal, exp.Null,
        exp.Lower, exp.Upper, exp.Length, exp.Abs, exp.Round,
        exp.CurrentDate,
    }
)  # fmt: skip
_AGGREGATES: frozenset[type[exp.Expr]] = frozenset(
    {exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg}
)
_HAVING_EXAMPLE = (
    "customer_id IN (SELECT customer_id FROM purchases GROUP BY customer_id"
    " HAVING count(*) >= 3)"
)
_SELECT_PARTS = frozenset({"expressions", "from_", "where", "group", "having"})


@dataclass(frozen=True, slots=True)
class _Context:
    test: bool = True  # the node must be true/false (WHERE, AND/OR/NOT operands)
    aggregates: bool = False  # inside HAVING of a subquery
    star: bool = False  # the sole projection of an EXISTS subquery


def check_tree(tree: exp.Expr) -> None:
    """Refuse ``tree`` unless every node is on the allow-list."""
    _check(tree, _Context())


def _check(node: exp.Expr, ctx: _Context) -> None:
    kind = type(node)
    special = _SPECIAL.get(kind)
    listed = kind in _TESTS or kind in _VALUES
    if special is None and not listed and not (ctx.aggregates and kind in _AGGREGATES):
        _refuse(node)
    if ctx.test and kind not in _TESTS:
        _refuse_value(node)
    if special is None:
        _check_children(node, ctx)
    else:
        special(node, ctx)


def _check_children(node: exp.Expr, ctx: _Context) -> None:
    keeps_test = isinstance(node, exp.And | exp.Or | exp.Not | exp.Paren)
    inner = replace(ctx, test=ctx.test and keeps_test, star=False)
    for child in node.iter_expressions():
        _check(child, inner)


def _check_column(node: exp.Expr, _: _Context) -> None:
    if not isinstance(node.this, exp.Identifier) or not _parts(node) <= {
        "this",
        "table",
    }:
        _refuse(node)


def _check_star(_: exp.Expr, ctx: _Context) -> None:
    if not ctx.star:
        msg = (
            "* is allowed only as EXISTS (SELECT * FROM table WHERE ...) and as"
            " count(*) in HAVING."
        )
        raise RuleError(msg)


def _check_count(node: exp.Expr, ctx: _Context) -> None:
    if not ctx.aggregates:
        _refuse(node)
    _check(node.this, replace(ctx, test=False, star=isinstance(node.this, exp.Star)))


def _check_is(node: exp.Expr, ctx: _Context) -> None:
    if not isinstance(node.expression, exp.Null | exp.Boolean):
        _refuse(node)
    _check(node.this, replace(ctx, test=False))


def _check_cast(node: exp.Expr, ctx: _Context) -> None:
    to = node.args.get("to")
    extras = [
        key for key in ("format", "safe", "action", "default") if node.args.get(key)
    ]
    if not isinstance(to, exp.DataType) or to.this not in CAST_TYPES or extras:
        msg = (
            f'The cast "{node.sql(dialect="duckdb")}" is not allowed: cast only to'
            " text, integer, bigint, double, decimal, boolean, date or timestamp."
        )
        raise RuleError(msg)
    for param in to.expressions:
        if not (isinstance(param, exp.DataTypeParam) and _is_number(param.this)):
            _refuse(node)
    _check(node.this, replace(ctx, test=False))


def _check_trim(node: exp.Expr, ctx: _Context) -> None:
    if node.args.get("collation") or node.args.get("position") not in {
        None,
        "BOTH",
        "LEADING",
        "TRAILING",
    }:
        _refuse(node)
    _check_children(node, ctx)


def _check_interval(node: exp.Expr, _: _Context) -> None:
    unit = node.args.get("unit")
    amount = node.this
    if not (
        isinstance(unit, exp.Var)
        and unit.name.upper().removesuffix("S") in UNITS
        and isinstance(amount, exp.Literal)
        and amount.name.strip().isdigit()
    ):
        msg = (
            f'The interval "{node.sql(dialect="duckdb")}" is not allowed: write'
            " a whole number and a unit, e.g. INTERVAL 30 DAY."
        )
        raise RuleError(msg)


def _check_extract(node: exp.Expr, ctx: _Context) -> None:
    unit = node.this
    if not (isinstance(unit, exp.Var) and unit.name.upper() in UNITS):
        _refuse_unit(node)
    _check(node.expression, replace(ctx, test=False))


def _check_anonymous(node: exp.Expr, ctx: _Context) -> None:
    args = node.expressions
    if node.name.lower() != "date_part" or len(args) != 2:
        _refuse(node)
    unit = args[0]
    if not (
        isinstance(unit, exp.Literal) and unit.is_string and unit.name.upper() in UNITS
    ):
        _refuse_unit(node)
    _check(args[1], replace(ctx, test=False))


def _check_exists(node: exp.Expr, _: _Context) -> None:
    if _parts(node) != {"this"}:
        raise RuleError(_SUBQUERY_MESSAGE)
    _check_select(node.this, exists=True)


def _check_in(node: exp.Expr, ctx: _Context) -> None:
    extras = [key for key in ("unnest", "field", "is_global") if node.args.get(key)]
    if extras:
        _refuse(node)
    query = node.args.get("query")
    inner = replace(ctx, test=False)
    _check(node.this, inner)
    if query is None:
        for item in node.expressions:
            _check(item, inner)
        return
    if not isinstance(query, exp.Subquery) or _parts(query) != {"this"}:
        raise RuleError(_SUBQUERY_MESSAGE)
    _check_select(query.this, exists=False)


def _check_select(select: object, *, exists: bool) -> None:
    if not isinstance(select, exp.Select) or not _simple_select(select):
        raise RuleError(_SUBQUERY_MESSAGE)
    projections = select.expressions
    if not exists and len(projections) != 1:
        msg = (
            "The subquery of IN must select exactly one column,"
            " e.g. (SELECT customer_id FROM purchases)."
        )
        raise RuleError(msg)
    star = exists and len(projections) == 1
    for projection in projections:
        _check(projection, _Context(test=False, star=star))
    for part in ("where", "having"):
        clause = select.args.get(part)
        if clause is not None:
            _check(clause.this, _Context(aggregates=part == "having"))
    group = select.args.get("group")
    if group is not None:
        if _parts(group) != {"expressions"}:
            raise RuleError(_SUBQUERY_MESSAGE)
        for item in group.expressions:
            _check(item, _Context(test=False))


def _simple_select(select: exp.Select) -> bool:
    parts = _parts(select)
    if not parts <= _SELECT_PARTS or "from_" not in parts:
        return False
    source = select.args["from_"]
    table = source.this
    if _parts(source) != {"this"} or not isinstance(table, exp.Table):
        return False
    alias = table.args.get("alias")
    return (
        isinstance(table.this, exp.Identifier)
        and _parts(table) <= {"this", "alias"}
        and (alias is None or _parts(alias) == {"this"})
    )


def _parts(node: exp.Expr) -> set[str]:
    return {key for key, value in node.args.items() if value}


_SUBQUERY_MESSAGE = (
    "Subqueries are allowed only as EXISTS (SELECT * FROM table WHERE ...) or"
    " column IN (SELECT column FROM table WHERE ...), on one table of the catalog,"
    " with optional GROUP BY and HAVING."
)


def _is_number(node: object) -> bool:
    return isinstance(node, exp.Literal) and not node.is_string


def _refuse_value(node: exp.Expr) -> None:
    text = node.sql(dialect="duckdb")
    msg = (
        f'"{text}" is a value, not a test: a condition must be true or false for'
        " each profile, e.g. lifetime_value > 1000 AND country = 'FR'."
    )
    raise RuleError(msg)


def _refuse_unit(node: exp.Expr) -> None:
    msg = (
        f'"{node.sql(dialect="duckdb")}" uses an unknown date part: use one of'
        f" {', '.join(sorted(UNITS)).lower()}."
    )
    raise RuleError(msg)


def _refuse(node: exp.Expr) -> None:
    name = _function_name(node)
    if type(node) in _AGGREGATES:
        msg = (
            f"{name}(...) is allowed only in HAVING of a subquery, e.g."
            f" {_HAVING_EXAMPLE}."
        )
        raise RuleError(msg)
    if name:
        msg = (
            f"The function {name} is not allowed in a condition."
            f" Allowed functions: {FUNCTIONS}."
        )
        raise RuleError(msg)
    if isinstance(node, exp.Select | exp.Subquery | exp.SetOperation):
        raise RuleError(_SUBQUERY_MESSAGE)
    text = node.sql(dialect="duckdb")
    msg = (
        f'"{text}" is not allowed in a condition: use columns, values, comparisons,'
        f" AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL and the functions {FUNCTIONS}."
    )
    raise RuleError(msg)


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    sql_name = getattr(type(node), "sql_name", None)
    return str(sql_name()).lower() if callable(sql_name) else ""


_SPECIAL: dict[type[exp.Expr], Callable[[exp.Expr, _Context], None]] = {
    exp.Column: _check_column,
    exp.Star: _check_star,
    exp.Count: _check_count,
    exp.Is: _check_is,
    exp.Cast: _check_cast,
    exp.Trim: _check_trim,
    exp.Interval: _check_interval,
    exp.Extract: _check_extract,
    exp.Anonymous: _check_anonymous,
    exp.Exists: _check_exists,
    exp.In: _check_in,
}
