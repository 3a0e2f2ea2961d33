"""Definitions as JSON for storage, and back.

``{"kind": "rules", "rules": {...}}`` holds the rules in the same JSON form a
user writes; ``{"kind": "where", "where": "..."}`` holds the SQL condition text.
Numbers are JSON numbers; one too precise for a float is written
``{"decimal": "123456789012345678.25"}``, which :func:`parse_rules` reads back.
"""

from __future__ import annotations

from collections.abc import Mapping

from audiencesync.errors import RuleError
from audiencesync.segments.model import (
    Condition,
    Definition,
    Exists,
    Group,
    Node,
    Not,
    WhereDefinition,
)
from audiencesync.segments.parsing import parse_rules
from audiencesync.segments.values import is_number, number_json


def definition_to_json(defn: Definition) -> dict[str, object]:
    """``defn`` as a JSON-serialisable dict."""
    if isinstance(defn, WhereDefinition):
        return {"kind": "where", "where": defn.sql}
    return {"kind": "rules", "rules": rules_to_json(defn.root)}


def definition_from_json(data: Mapping[str, object]) -> Definition:
    """The definition :func:`definition_to_json` wrote (checked again)."""
    kind = data.get("kind")
    if kind == "rules" and "rules" in data:
        return parse_rules(data["rules"])
    if kind == "where" and isinstance(data.get("where"), str):
        from audiencesync.segments.where import parse_where  # noqa: PLC0415 - sqlglot

        return parse_where(str(data["where"]))
    msg = (
        'A stored definition needs "kind": "rules" with "rules", or "kind":'
        f' "where" with "where"; got kind {kind!r}.'
    )
    raise RuleError(msg)


def rules_to_json(node: Node) -> dict[str, object]:
    """The rules JSON of ``node``."""
    if isinstance(node, Condition):
        data: dict[str, object] = {"field": node.field, "op": node.op}
        if node.value is not None:
            data["value"] = _value_json(node.value)
        return data
    if isinstance(node, Group):
        return {node.mode: [rules_to_json(item) for item in node.items]}
    if isinstance(node, Not):
        return {"not": rules_to_json(node.item)}
    return {"exists": _exists_json(node)}


def _exists_json(node: Exists) -> dict[str, object]:
    data: dict[str, object] = {"table": node.table}
    if node.where is None:
        return data
    where = rules_to_json(node.where)
    if isinstance(node.where, Group):
        data.update(where)
    else:
        data["all"] = [where]
    return data


def _value_json(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_value_json(item) for item in value]
    if is_number(value):
        return number_json(value)
    return value
