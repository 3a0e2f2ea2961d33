"""Reading one condition of the rules JSON: its field, operator and value.

Only the shape of the value is checked here (one value, a pair, a list, a number
of days, a day); whether it fits the column is checked when compiling.
"""

from __future__ import annotations

from collections.abc import Mapping

from audiencesync.errors import RuleError
from audiencesync.segments.operators import (
    MAX_DAYS,
    MAX_LIST_ITEMS,
    OPERATORS,
    Shape,
    shape_of,
    suggest_operator,
)
from audiencesync.segments.paths import Path, at, describe_type
from audiencesync.segments.values import DECIMAL_KEY, parse_day, to_number


def parse_condition(data: Mapping[str, object], path: Path) -> tuple[str, str, object]:
    """The field, operator and value of the condition ``data`` at ``path``."""
    field = data.get("field")
    if not isinstance(field, str) or not field.strip():
        msg = (
            f'The condition at {at(path)} needs "field": the name of a column,'
            ' e.g. "country".'
        )
        raise RuleError(msg)
    op = _parse_op(data.get("op"), (*path, "op"))
    return field, op, _parse_value(op, data, (*path, "value"))


def _parse_op(op: object, path: Path) -> str:
    if isinstance(op, str) and op in OPERATORS:
        return op
    valid = ", ".join(OPERATORS)
    if not isinstance(op, str):
        msg = f'Expected an operator at {at(path)}, e.g. "=". Valid operators: {valid}.'
        raise RuleError(msg)
    guess = suggest_operator(op)
    hint = f' Did you mean "{guess}"?' if guess else ""
    msg = f'Unknown operator "{op}" at {at(path)}.{hint} Valid operators: {valid}.'
    raise RuleError(msg)


def _parse_value(op: str, data: Mapping[str, object], path: Path) -> object:
    shape = shape_of(op)
    value = data.get("value")
    if shape is Shape.NONE:
        if value is not None:
            msg = f'"{op}" takes no value, but {at(path)} has one: remove "value".'
            raise RuleError(msg)
        return None
    if value is None:
        msg = (
            f'"{op}" needs {shape.value} at {at(path)}. To match profiles'
            ' without a value, use "is_empty".'
        )
        raise RuleError(msg)
    return _READERS[shape](op, value, path)


def _scalar(op: str, value: object, path: Path) -> object:
    if isinstance(value, str) and "\x00" in value:
        msg = f"The value at {at(path)} contains a NUL character (\\u0000): remove it."
        raise RuleError(msg)
    if isinstance(value, str | bool):
        return value
    number = to_number(value)
    if number is not None:
        return number
    if isinstance(value, list):
        msg = (
            f'"{op}" takes one value at {at(path)}, got a list. To match any of'
            ' several values, use "in".'
        )
        raise RuleError(msg)
    msg = (
        f'"{op}" takes one value at {at(path)} (text, a number or true/false),'
        f" got {describe_type(value)}."
    )
    if isinstance(value, Mapping) and DECIMAL_KEY in value:
        msg = f'{msg[:-1]}: {{"{DECIMAL_KEY}": ...}} must hold digits as text.'
    raise RuleError(msg)


def _pair(op: str, value: object, path: Path) -> object:
    if not isinstance(value, list) or len(value) != 2:
        msg = (
            f'"{op}" needs a list of two values [low, high] at {at(path)},'
            " e.g. [10, 20]."
        )
        raise RuleError(msg)
    return tuple(
        _item(op, item, (*path[:-1], f"value[{i}]")) for i, item in enumerate(value)
    )


def _list(op: str, value: object, path: Path) -> object:
    if not isinstance(value, list) or not value:
        msg = f'"{op}" needs a non-empty list at {at(path)}, e.g. ["gold", "platinum"].'
        raise RuleError(msg)
    if len(value) > MAX_LIST_ITEMS:
        msg = (
            f'"{op}" takes at most {MAX_LIST_ITEMS} values, but {at(path)} has'
            f" {len(value)}: split the segment or use a related table with exists."
        )
        raise RuleError(msg)
    return tuple(
        _item(op, item, (*path[:-1], f"value[{i}]")) for i, item in enumerate(value)
    )


def _item(op: str, item: object, path: Path) -> object:
    if item is None or isinstance(item, list):
        msg = (
            f'Each value of "{op}" must be text, a number or true/false;'
            f" {at(path)} is {describe_type(item)}."
        )
        raise RuleError(msg)
    return _scalar(op, item, path)


def _days(op: str, value: object, path: Path) -> object:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 1 <= value <= MAX_DAYS
    ):
        return value
    msg = (
        f'"{op}" needs a whole number of days from 1 to {MAX_DAYS} at {at(path)},'
        " e.g. 30."
    )
    raise RuleError(msg)


def _day(op: str, value: object, path: Path) -> object:
    if isinstance(value, str) and parse_day(value) is not None:
        return value
    msg = f'"{op}" needs a date written "YYYY-MM-DD" at {at(path)}, e.g. "2026-01-31".'
    raise RuleError(msg)


_READERS = {
    Shape.SCALAR: _scalar,
    Shape.PAIR: _pair,
    Shape.LIST: _list,
    Shape.DAYS: _days,
    Shape.DAY: _day,
}
