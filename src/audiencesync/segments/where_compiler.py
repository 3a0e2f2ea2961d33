"""Compiling a checked ``--where`` condition against the catalog.

Every column is resolved (bare, or after its table's name or alias) and
rewritten as a quoted ``"p"."column"`` (or ``"s1"."column"`` in a subquery);
every table becomes a quoted catalog table; ``current_date`` becomes the
evaluation day; date text compared with a date column becomes a typed cast.
Simple type mismatches between a column and a literal are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

from audiencesync.errors import RuleError
from audiencesync.profiles.catalog import Catalog, Column, ColumnKind, Table
from audiencesync.segments.lookup import column_of, join_key_of, profile_of, table_of
from audiencesync.segments.model import WhereDefinition
from audiencesync.segments.sql import PROFILE_ALIAS, column_ref, day_literal, table_ref
from audiencesync.segments.where import parse_where_tree
from audiencesync.segments.where_types import check_operands


@dataclass(slots=True)
class _Scope:
    table: Table
    alias: str
    names: frozenset[str]
    outer_refs: int = 0


@dataclass(slots=True)
class _Compiler:
    catalog: Catalog
    today: date
    profile_key: str
    scopes: list[_Scope] = field(default_factory=list)

    def rewrite(self, node: exp.Expr, *, test: bool) -> exp.Expr:
        """``node`` with columns, tables and ``current_date`` made concrete."""
        handler = _HANDLERS.get(type(node))
        replaced = handler(self, node, test) if handler else None
        if replaced is not None:
            return replaced
        check_operands(node, self._resolve)
        keeps_test = test and isinstance(node, exp.And | exp.Or | exp.Not | exp.Paren)
        for child in list(node.iter_expressions()):
            new = self.rewrite(child, test=keeps_test)
            if new is not child:
                child.replace(new)
        return node

    def _current_date(self, _: exp.Expr, __: bool) -> exp.Expr:
        return day_literal(self.today)

    def _date_part(self, node: exp.Expr, _: bool) -> exp.Expr:
        # date_part('unit', x), checked by the allow-list, as EXTRACT(unit FROM x)
        unit = exp.var(node.expressions[0].name.upper())
        part = self.rewrite(node.expressions[1], test=False)
        return exp.Extract(this=unit, expression=part)

    def _interval(self, node: exp.Expr, _: bool) -> exp.Expr:
        unit = exp.var(str(node.args["unit"].name).upper().removesuffix("S"))
        amount = exp.Literal.string(node.this.name.strip())
        return exp.Interval(this=amount, unit=unit)

    def _exists(self, node: exp.Expr, _: bool) -> exp.Expr:
        return exp.Exists(this=self._select(node.this, exists=True))

    def _in(self, node: exp.Expr, _: bool) -> exp.Expr | None:
        query = node.args.get("query")
        if query is None:
            return None
        subject = self.rewrite(node.this, test=False)
        select = self._select(query.this, exists=False)
        return exp.In(this=subject, query=exp.Subquery(this=select))

    def _column(self, node: exp.Expr, test: bool) -> exp.Expr:
        scope, column = self._resolve(node)
        if test and column.kind is not ColumnKind.BOOLEAN:
            msg = (
                f'"{node.sql(dialect="duckdb")}" is a value, not a test: compare'
                f" it, e.g. {_comparison_example(node.name, column)}."
            )
            raise RuleError(msg)
        return column_ref(column.name, scope.alias)

    def _resolve(self, node: exp.Expr) -> tuple[_Scope, Column]:
        identifier = node.this
        fold = not identifier.quoted
        qualifier = node.args.get("table")
        candidates = self.scopes[::-1]
        if qualifier is not None:
            candidates = [s for s in candidates if _names(s, qualifier)]
            if not candidates:
                raise RuleError(self._unknown_qualifier(node))
        for scope in candidates:
            found = _find(scope.table, identifier.name, fold=fold)
            if found is not None:
                self._note_outer(scope)
                return scope, found
        return candidates[0], column_of(candidates[0].table, identifier.name)

    def _note_outer(self, scope: _Scope) -> None:
        # A subquery that reads a column of an enclosing query is correlated,
        # and so is every subquery between the two.
        for inner in self.scopes[self.scopes.index(scope) + 1 :]:
            inner.outer_refs += 1

    def _unknown_qualifier(self, node: exp.Expr) -> str:
        known = ", ".join(sorted({name for s in self.scopes for name in s.names}))
        qualifier = node.args["table"].name
        return (
            f'Unknown table "{qualifier}" in "{node.sql(dialect="duckdb")}":'
            f" write the column bare or after one of: {known}."
        )

    def _select(self, select: exp.Select, *, exists: bool) -> exp.Select:
        source = select.args["from_"].this
        table = self._table(source.this)
        alias = f"s{len(self.scopes)}"
        names = {source.name, table.name, source.alias} - {""}
        scope = _Scope(table=table, alias=alias, names=frozenset(names))
        self.scopes.append(scope)
        try:
            built = self._build_select(select, scope, exists=exists)
        finally:
            self.scopes.pop()
        if exists and scope.outer_refs == 0:
            raise RuleError(self._uncorrelated(table))
        return built

    def _build_select(
        self, select: exp.Select, scope: _Scope, *, exists: bool
    ) -> exp.Select:
        projections = (
            [exp.Literal.number(1)]
            if exists
            else [self.rewrite(item, test=False) for item in select.expressions]
        )
        built = exp.select(*projections).from_(table_ref(scope.table.name, scope.alias))
        if (where := select.args.get("where")) is not None:
            built = built.where(self.rewrite(where.this, test=True))
        if (group := select.args.get("group")) is not None:
            built = built.group_by(
                *(self.rewrite(e, test=False) for e in group.expressions)
            )
        if (having := select.args.get("having")) is not None:
            built = built.having(self.rewrite(having.this, test=True))
        return built

    def _table(self, identifier: exp.Identifier) -> Table:
        name = identifier.name
        table = self.catalog.table(name)
        if table is None and not identifier.quoted:
            folded = [
                t for t in self.catalog.tables if t.name.casefold() == name.casefold()
            ]
            table = folded[0] if len(folded) == 1 else None
        return table or table_of(self.catalog, name)

    def _uncorrelated(self, table: Table) -> str:
        profile = self.scopes[0].table
        try:
            link = join_key_of(table, self.profile_key)
        except RuleError:
            link = self.profile_key
        return (
            f"The EXISTS subquery on {table.name} does not refer to the profile, so"
            " it would be true or false for every profile alike. Link it to the"
            f" profile in its WHERE, e.g. {table.name}.{link} ="
            f" {profile.name}.{self.profile_key}."
        )


_Handler = Callable[[_Compiler, exp.Expr, bool], exp.Expr | None]
_HANDLERS: dict[type[exp.Expr], _Handler] = {
    exp.Column: _Compiler._column,
    exp.CurrentDate: _Compiler._current_date,
    exp.Anonymous: _Compiler._date_part,
    exp.Interval: _Compiler._interval,
    exp.Exists: _Compiler._exists,
    exp.In: _Compiler._in,
}


def compile_where(defn: WhereDefinition, catalog: Catalog, *, today: date) -> exp.Expr:
    """The SQL condition of ``defn``, checked against ``catalog``."""
    profile, key = profile_of(catalog)
    tree = parse_where_tree(defn.sql)
    compiler = _Compiler(catalog=catalog, today=today, profile_key=key)
    compiler.scopes.append(
        _Scope(table=profile, alias=PROFILE_ALIAS, names=frozenset({profile.name}))
    )
    return compiler.rewrite(tree, test=True)


def _comparison_example(name: str, column: Column) -> str:
    if column.kind.is_numeric:
        return f"{name} > 100"
    if column.kind.is_temporal:
        return f"{name} > '2026-01-31'"
    if column.kind is ColumnKind.TEXT:
        return f"{name} = 'some text'"
    return f"{name} IS NOT NULL"


def _names(scope: _Scope, qualifier: exp.Identifier) -> bool:
    if qualifier.name in scope.names:
        return True
    folded = qualifier.name.casefold()
    return not qualifier.quoted and any(n.casefold() == folded for n in scope.names)


def _find(table: Table, name: str, *, fold: bool) -> Column | None:
    column = table.column(name)
    if column is not None or not fold:
        return column
    folded = [col for col in table.columns if col.name.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None
