"""Where in a rules document something is, said the way people read it."""

from __future__ import annotations

from decimal import Decimal

Path = tuple[str, ...]


def at(path: Path) -> str:
    """``rules › all[2] › op``."""  # noqa: RUF002 - the separator people read
    return " › ".join(path)  # noqa: RUF001 - the separator people read


def describe_type(value: object) -> str:
    """What kind of JSON value ``value`` is, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    return "an object"
