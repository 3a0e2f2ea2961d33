"""Which profile columns a segment definition reads (to show them in previews)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from audiencesync.segments.rules import (
    Condition,
    Definition,
    Group,
    Node,
    Not,
    RulesDefinition,
)


def referenced_columns(definition: Definition) -> list[str]:
    """Profile-table columns the definition names, in order of first use."""
    if isinstance(definition, RulesDefinition):
        names = list(_rule_columns(definition.root))
    else:
        names = _where_columns(definition.sql)
    return list(dict.fromkeys(names))


def _rule_columns(node: Node) -> list[str]:
    if isinstance(node, Condition):
        return [node.field]
    if isinstance(node, Group):
        return [name for item in node.items for name in _rule_columns(item)]
    if isinstance(node, Not):
        return _rule_columns(node.item)
    return []  # Exists: its columns belong to another table


def _where_columns(sql: str) -> list[str]:
    tree = sqlglot.parse_one(sql, read="duckdb")
    return [
        column.name
        for column in tree.find_all(exp.Column)
        if column.find_ancestor(exp.Subquery, exp.Select) is None
    ]
