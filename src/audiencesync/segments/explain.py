"""Why one profile is in or out of a segment, condition by condition.

Every condition and group of a rules definition (an ``exists`` test counts as
one condition) is compiled on its own and all of them are selected in one query
over the one profile row, so each result is exactly what the segment's own
condition computes for it: true, false, or null (SQL's unknown, when a value it
reads is missing; a null condition does not select the profile). An SQL
``--where`` condition is shown whole, with its top-level AND / OR terms when it
has several.

The profile is found by its key. A key that matches no profile is a
:class:`NotFoundError` that never repeats the key: it may be an email address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

from audiencesync.errors import NotFoundError, RuleError
from audiencesync.profiles.catalog import Catalog, Column, ColumnKind
from audiencesync.segments.compiler import compile_condition, compile_node
from audiencesync.segments.description import describe, describe_condition
from audiencesync.segments.lookup import profile_of
from audiencesync.segments.model import (
    Condition,
    Definition,
    Exists,
    Group,
    Node,
    Not,
    RulesDefinition,
    WhereDefinition,
)
from audiencesync.segments.paths import Path, at
from audiencesync.segments.sql import PROFILE_ALIAS, column_ref, table_ref
from audiencesync.segments.where import parse_where_tree
from audiencesync.segments.where_compiler import compile_where

if TYPE_CHECKING:
    from audiencesync.profiles.engine import ProfileEngine

StepKind = Literal["condition", "all", "any", "not", "exists", "where", "and", "or"]
MAX_KEY_LENGTH = 1_000
_WHOLE = "whole"


@dataclass(slots=True)
class Step:
    """One condition or group of a definition and its result for the profile."""

    path: str
    kind: StepKind
    text: str
    result: bool | None = None
    items: list[Step] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Explanation:
    """A profile's results for a segment: member or not, and each step's result."""

    segment: str
    key_column: str
    member: bool
    root: Step


@dataclass
class _Plan:
    """The steps of a definition and the SQL condition of each, by column name."""

    root: Step
    columns: dict[str, exp.Expr] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)

    def add(self, step: Step, condition: exp.Expr) -> Step:
        name = f"c{len(self.columns)}"
        self.columns[name] = condition
        self.steps[name] = step
        return step


def explain(
    engine: ProfileEngine,
    catalog: Catalog,
    segment: str,
    defn: Definition,
    key: str,
    *,
    today: date,
) -> Explanation:
    """Evaluate every step of ``defn`` for the profile whose key is ``key``."""
    profile, key_name = profile_of(catalog)
    plan = _plan(defn, catalog, today)
    whole = compile_condition(defn, catalog, today=today)
    match = _key_match(profile.column(key_name), key_name, key)
    if match is None:
        raise _no_profile(profile.name)
    selected = [
        exp.alias_(_truth(condition), name, quoted=True)
        for name, condition in {**plan.columns, _WHOLE: whole}.items()
    ]
    query = (
        exp.select(*selected)
        .from_(table_ref(profile.name, PROFILE_ALIAS))
        .where(match)
        .limit(1)
    )
    rows = [
        row for batch in engine.stream(query, batch_rows=1) for row in batch.to_pylist()
    ]
    if not rows:
        raise _no_profile(profile.name)
    row = rows[0]
    for name, step in plan.steps.items():
        step.result = _bool(row[name])
    return Explanation(segment, key_name, _bool(row[_WHOLE]) is True, plan.root)


def _plan(defn: Definition, catalog: Catalog, today: date) -> _Plan:
    if isinstance(defn, WhereDefinition):
        return _where_plan(defn, catalog, today)
    plan = _Plan(root=Step("rules", "condition", ""))
    plan.root = _rules_step(defn.root, ("rules",), plan, catalog, today)
    return plan


def _rules_step(
    node: Node, path: Path, plan: _Plan, catalog: Catalog, today: date
) -> Step:
    condition = compile_node(node, catalog, today=today, path=path)
    if isinstance(node, Condition):
        step = Step(at(path), "condition", describe_condition(node))
    elif isinstance(node, Exists):
        step = Step(at(path), "exists", _exists_text(node))
    elif isinstance(node, Not):
        inner = _rules_step(node.item, (*path, "not"), plan, catalog, today)
        step = Step(at(path), "not", f"not ({inner.text})", items=[inner])
    else:
        step = _group_step(node, path, plan, catalog, today)
    return plan.add(step, condition)


def _group_step(
    node: Group, path: Path, plan: _Plan, catalog: Catalog, today: date
) -> Step:
    items = [
        _rules_step(item, (*path, f"{node.mode}[{index}]"), plan, catalog, today)
        for index, item in enumerate(node.items)
    ]
    text = f"{node.mode} of {len(items)}"
    return Step(at(path), node.mode, text, items=items)


def _exists_text(node: Exists) -> str:
    return describe(RulesDefinition(root=node))


def _where_plan(defn: WhereDefinition, catalog: Catalog, today: date) -> _Plan:
    tree = parse_where_tree(defn.sql)
    text = tree.sql(dialect="duckdb")
    core = tree.unnest()
    plan = _Plan(root=Step("where", "where", text))
    if not isinstance(core, exp.And | exp.Or):
        plan.add(plan.root, compile_where(defn, catalog, today=today))
        return plan
    terms = list(core.flatten())
    items: list[Step] = []
    try:
        for index, term in enumerate(terms):
            term_sql = term.sql(dialect="duckdb")
            compiled = compile_where(WhereDefinition(term_sql), catalog, today=today)
            items.append(Step(f"where › term[{index}]", "condition", term_sql))  # noqa: RUF001
            plan.add(items[-1], compiled)
    except RuleError:  # a term that does not stand alone: show the whole only
        plan = _Plan(root=Step("where", "where", text))
        plan.add(plan.root, compile_where(defn, catalog, today=today))
        return plan
    plan.root = Step("where", "and" if isinstance(core, exp.And) else "or", text)
    plan.root.items = items
    plan.add(plan.root, compile_where(defn, catalog, today=today))
    return plan


def _truth(condition: exp.Expr) -> exp.Expr:
    """The condition as a selectable value (true, false or null)."""
    return exp.Paren(this=condition.copy())


def _key_match(column: Column | None, name: str, key: str) -> exp.Expression | None:
    """``p.key = <key>`` typed like the key column; None when no key can match."""
    if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key or column is None:
        return None
    ref = column_ref(name, PROFILE_ALIAS)
    if column.kind is ColumnKind.INTEGER:
        text = key.strip()
        digits = text.removeprefix("-")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
            return None
        return exp.EQ(this=ref, expression=exp.Literal.number(int(text)))
    if column.kind is ColumnKind.TEXT:
        return exp.EQ(this=ref, expression=exp.Literal.string(key))
    as_text = exp.cast(ref, exp.DataType.Type.TEXT)
    return exp.EQ(this=as_text, expression=exp.Literal.string(key))


def _bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def _no_profile(table: str) -> NotFoundError:
    msg = f"There is no profile with that key in {table}."
    return NotFoundError(msg, code="profile_not_found", field="key")
