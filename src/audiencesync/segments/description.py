"""One human line for a definition, e.g. ``country = FR and lifetime_value > 1000``."""

from __future__ import annotations

import json
import re

from audiencesync.errors import RuleError
from audiencesync.segments.model import (
    Condition,
    Definition,
    Exists,
    Node,
    Not,
    RulesDefinition,
)
from audiencesync.segments.values import is_number, number_text

_BARE = re.compile(r"[A-Za-z_][\w@.+:/-]*|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?")
_WORDS = {"and", "or", "not", "true", "false", "null", "where", "in", "has"}
_PHRASES = {
    "not_in": "not in",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}


def describe(defn: Definition) -> str:
    """``country = FR and lifetime_value > 1000``, or the condition's SQL."""
    if isinstance(defn, RulesDefinition):
        return _node(defn.root, top=True)
    from audiencesync.segments.where import parse_where_tree  # noqa: PLC0415 - sqlglot

    try:
        return f"where {parse_where_tree(defn.sql).sql(dialect='duckdb')}"
    except RuleError:
        return f"where {defn.sql}"


def describe_condition(cond: Condition) -> str:
    """``lifetime_value between 10 and 20``."""
    op = _PHRASES.get(cond.op, cond.op)
    value = cond.value
    if cond.op in {"is_empty", "is_not_empty"}:
        return f"{cond.field} {op}"
    if cond.op == "in_last_days":
        return f"{cond.field} in last {_value(value)} days"
    if cond.op == "between" and isinstance(value, tuple):
        return f"{cond.field} between {_value(value[0])} and {_value(value[1])}"
    if isinstance(value, tuple):
        return f"{cond.field} {op} ({', '.join(map(_value, value))})"
    return f"{cond.field} {op} {_value(value)}"


def _node(node: Node, *, top: bool = False) -> str:
    if isinstance(node, Condition):
        return describe_condition(node)
    if isinstance(node, Not):
        return f"not ({_node(node.item, top=True)})"
    if isinstance(node, Exists):
        if node.where is None:
            return f"has {node.table}"
        return f"has {node.table} where ({_node(node.where, top=True)})"
    joined = f" {'and' if node.mode == 'all' else 'or'} ".join(map(_node, node.items))
    return joined if top or len(node.items) == 1 else f"({joined})"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return number_text(value)
    text = str(value)
    if _BARE.fullmatch(text) and text.lower() not in _WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)
