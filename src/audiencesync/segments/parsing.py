"""Reading the rules JSON into the rule model.

:func:`parse_rules` says exactly where a mistake is, as a path such as
``rules > all[2] > op`` (messages use a single angle quote as the separator).
Checks that need the schema (does the column exist, does the value fit its kind)
happen when compiling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from audiencesync.errors import RuleError
from audiencesync.segments.conditions import parse_condition
from audiencesync.segments.model import (
    Condition,
    Exists,
    Group,
    Node,
    Not,
    RulesDefinition,
)
from audiencesync.segments.paths import Path, at, describe_type

MAX_DEPTH = 20


def parse_rules(data: object) -> RulesDefinition:
    """The rules tree that decoded JSON ``data`` describes."""
    return RulesDefinition(root=_parse_node(data, ("rules",)))


def parse_rules_text(text: str) -> RulesDefinition:
    """The rules tree in JSON ``text``; numbers are decoded exactly."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        msg = (
            f"The rules are not valid JSON: {exc.msg} at line {exc.lineno},"
            f" column {exc.colno}."
        )
        raise RuleError(msg) from exc
    except RecursionError as exc:
        msg = f"The rules are nested too deeply (at most {MAX_DEPTH} levels)."
        raise RuleError(msg) from exc
    return parse_rules(data)


def _refuse_constant(name: str) -> object:
    msg = f"The rules contain {name}, which is not a number: write a plain number."
    raise RuleError(msg)


def _parse_node(data: object, path: Path) -> Node:
    if len(path) > MAX_DEPTH:
        msg = f"The rules are nested too deeply at {at(path)} (at most {MAX_DEPTH})."
        raise RuleError(msg)
    if not isinstance(data, Mapping):
        msg = (
            f"Expected a condition or a group at {at(path)}, got"
            f' {describe_type(data)}. Write {{"field": ..., "op": ...,'
            ' "value": ...}, {"all": [...]}, {"any": [...]}, {"not": ...}'
            ' or {"exists": {"table": ...}}.'
        )
        raise RuleError(msg)
    keys = set(data)
    if keys & {"field", "op", "value"}:
        return _parse_condition(data, path)
    if keys & {"all", "any"}:
        return _parse_group(data, path)
    if "not" in keys:
        _only_keys(data, {"not"}, path, "A negation")
        return Not(_parse_node(data["not"], (*path, "not")))
    if "exists" in keys:
        _only_keys(data, {"exists"}, path, "An exists test")
        return _parse_exists(data["exists"], (*path, "exists"))
    names = ", ".join(f'"{key}"' for key in sorted(map(str, keys))) or "no keys"
    msg = (
        f"Expected a condition or a group at {at(path)}, found {names}. Use"
        ' "field"/"op"/"value", "all", "any", "not" or "exists".'
    )
    raise RuleError(msg)


def _parse_condition(data: Mapping[str, object], path: Path) -> Condition:
    _only_keys(data, {"field", "op", "value"}, path, "A condition")
    field, op, value = parse_condition(data, path)
    return Condition(field=field, op=op, value=value)


def _parse_group(data: Mapping[str, object], path: Path) -> Group:
    _only_keys(data, {"all"} if "all" in data else {"any"}, path, "A group")
    mode: Literal["all", "any"] = "all" if "all" in data else "any"
    return _parse_items(mode, data[mode], path)


def _parse_items(mode: Literal["all", "any"], items: object, path: Path) -> Group:
    if not isinstance(items, list):
        msg = (
            f'The "{mode}" group at {at(path)} must hold a list of conditions,'
            f" got {describe_type(items)}."
        )
        raise RuleError(msg)
    if not items:
        msg = (
            f'The "{mode}" group at {at(path)} is empty: add at least one'
            " condition or remove the group."
        )
        raise RuleError(msg)
    nodes = tuple(
        _parse_node(item, (*path, f"{mode}[{index}]"))
        for index, item in enumerate(items)
    )
    return Group(mode=mode, items=nodes)


def _parse_exists(data: object, path: Path) -> Exists:
    if not isinstance(data, Mapping):
        msg = (
            f'Expected {{"table": ..., "all": [...]}} at {at(path)}, got'
            f" {describe_type(data)}."
        )
        raise RuleError(msg)
    table = data.get("table")
    if not isinstance(table, str) or not table.strip():
        msg = f'The exists test at {at(path)} needs "table": the name of a table.'
        raise RuleError(msg)
    groups = {"all", "any"} & set(data)
    _only_keys(data, {"table", *groups}, path, "An exists test")
    if len(groups) > 1:
        msg = f'The exists test at {at(path)} takes either "all" or "any", not both.'
        raise RuleError(msg)
    mode = _mode(groups)
    where = None if mode is None else _parse_items(mode, data[mode], path)
    return Exists(table=table, where=where)


def _mode(groups: set[str]) -> Literal["all", "any"] | None:
    if not groups:
        return None
    return "all" if "all" in groups else "any"


def _only_keys(
    data: Mapping[str, object], allowed: set[str], path: Path, what: str
) -> None:
    extra = sorted(str(key) for key in data if key not in allowed)
    if extra:
        names = ", ".join(f'"{key}"' for key in extra)
        expected = ", ".join(f'"{key}"' for key in sorted(allowed))
        msg = f"Unexpected {names} at {at(path)}: {what} has only {expected}."
        raise RuleError(msg)
