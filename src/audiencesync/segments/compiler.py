"""Compiling a definition and the catalog into sqlglot queries.

``members_query`` selects the profile key (and any requested columns) of every
member; ``count_query`` counts them. Both are sqlglot trees with quoted names and
literal values: each engine renders them in its own dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlglot import exp

from audiencesync.profiles.catalog import Catalog, Table
from audiencesync.segments.conditions import parse_condition
from audiencesync.segments.lookup import column_of, join_key_of, profile_of, table_of
from audiencesync.segments.model import (
    Condition,
    Definition,
    Exists,
    Node,
    Not,
    WhereDefinition,
)
from audiencesync.segments.paths import Path
from audiencesync.segments.predicates import predicate
from audiencesync.segments.sql import PROFILE_ALIAS, column_ref, table_ref
from audiencesync.segments.where_compiler import compile_where


@dataclass(frozen=True, slots=True)
class _Scope:
    """Where conditions of one level read their columns from."""

    catalog: Catalog
    table: Table
    alias: str
    profile_key: str
    today: date
    depth: int = 0
    link: str | None = None  # the column of ``table`` equal to the profile key

    def anchor(self) -> exp.Expr:
        """This level's column that holds the profile key.

        The profile's key at the top; inside an EXISTS, the subquery's own join
        column, which its WHERE makes equal to the profile key. A nested EXISTS
        links to it, so each subquery reads only its direct parent: Spark SQL
        resolves no reference two levels out, DuckDB and PostgreSQL give the same
        rows either way.
        """
        if self.link is None:
            return column_ref(self.profile_key, PROFILE_ALIAS)
        return column_ref(self.link, self.alias)


def compile_condition(
    defn: Definition, catalog: Catalog, *, today: date
) -> exp.Expression:
    """The SQL condition of ``defn`` over the profile table aliased ``p``.

    Raises RuleError when the definition does not fit the catalog. ``today`` is
    the day ``in_last_days`` and ``current_date`` count from.
    """
    if isinstance(defn, WhereDefinition):
        return cast("exp.Expression", compile_where(defn, catalog, today=today))
    profile, key = profile_of(catalog)
    scope = _Scope(
        catalog=catalog,
        table=profile,
        alias=PROFILE_ALIAS,
        profile_key=key,
        today=today,
    )
    # sqlglot's builders are typed as returning mixins; every node is an Expression.
    return cast("exp.Expression", _compile(defn.root, scope, ("rules",)))


def compile_node(
    node: Node, catalog: Catalog, *, today: date, path: Path
) -> exp.Expression:
    """The SQL condition of one rules ``node`` over the profile table ``p``.

    ``path`` is where the node sits in its definition, for messages.
    """
    profile, key = profile_of(catalog)
    scope = _Scope(
        catalog=catalog,
        table=profile,
        alias=PROFILE_ALIAS,
        profile_key=key,
        today=today,
    )
    return cast("exp.Expression", _compile(node, scope, path))


def members_query(
    defn: Definition, catalog: Catalog, *, columns: Sequence[str] = (), today: date
) -> exp.Select:
    """``SELECT p."<key>", p."<column>"... FROM "<profiles>" AS p WHERE ...``.

    The key comes first, then ``columns`` (each must exist in the profile table).
    """
    profile, key = profile_of(catalog)
    condition = compile_condition(defn, catalog, today=today)
    names = dict.fromkeys([key, *(column_of(profile, name).name for name in columns)])
    selected = [column_ref(name, PROFILE_ALIAS) for name in names]
    return (
        exp.select(*selected)
        .from_(table_ref(profile.name, PROFILE_ALIAS))
        .where(condition)
    )


def count_query(defn: Definition, catalog: Catalog, *, today: date) -> exp.Select:
    """``SELECT COUNT(*) AS "count" FROM "<profiles>" AS p WHERE <condition>``."""
    profile, _ = profile_of(catalog)
    condition = compile_condition(defn, catalog, today=today)
    counted = exp.Count(this=exp.Star()).as_("count", quoted=True)
    return (
        exp.select(counted)
        .from_(table_ref(profile.name, PROFILE_ALIAS))
        .where(condition)
    )


def _compile(node: Node, scope: _Scope, path: Path) -> exp.Expr:
    if isinstance(node, Condition):
        return _condition(node, scope, path)
    if isinstance(node, Not):
        return exp.not_(_compile(node.item, scope, (*path, "not")))
    if isinstance(node, Exists):
        return _exists(node, scope, (*path, "exists"))
    parts = [
        _compile(item, scope, (*path, f"{node.mode}[{index}]"))
        for index, item in enumerate(node.items)
    ]
    return exp.and_(*parts) if node.mode == "all" else exp.or_(*parts)


def _condition(cond: Condition, scope: _Scope, path: Path) -> exp.Expr:
    # Conditions built in code skip parse_rules: read the shape of the value again.
    value = list(cond.value) if isinstance(cond.value, tuple | list) else cond.value
    field, op, checked = parse_condition(
        {"field": cond.field, "op": cond.op, "value": value}, path
    )
    column = column_of(scope.table, field)
    ref = column_ref(column.name, scope.alias)
    return predicate(Condition(field, op, checked), column, ref, today=scope.today)


def _exists(node: Exists, scope: _Scope, path: Path) -> exp.Expr:
    table = table_of(scope.catalog, node.table)
    link = join_key_of(table, scope.profile_key)
    alias = f"s{scope.depth + 1}"
    inner = _Scope(
        catalog=scope.catalog,
        table=table,
        alias=alias,
        profile_key=scope.profile_key,
        today=scope.today,
        depth=scope.depth + 1,
        link=link,
    )
    condition: exp.Expr = exp.EQ(
        this=column_ref(link, alias), expression=scope.anchor()
    )
    if node.where is not None:
        condition = exp.and_(condition, _compile(node.where, inner, path))
    select = exp.select(exp.Literal.number(1)).from_(table_ref(table.name, alias))
    return exp.Exists(this=select.where(condition))
