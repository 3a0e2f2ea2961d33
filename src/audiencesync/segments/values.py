"""Values of the rule language: numbers, days, instants and their texts.

Numbers are kept as ``int`` or :class:`~decimal.Decimal` so that ``1000.10`` stays
exactly what the user typed. Days are ISO strings ``YYYY-MM-DD``; instants are
``YYYY-MM-DDTHH:MM:SS`` (a space instead of ``T`` is accepted too).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeGuard

# The characters that make a text value "empty" when nothing else is there.
BLANK_CHARACTERS = " \t\n\r"

# A number too precise for a JSON float travels as {"decimal": "<digits>"}.
DECIMAL_KEY = "decimal"

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")

Number = int | Decimal


def is_number(value: object) -> TypeGuard[Number]:
    """Whether ``value`` is a number of the model (``True`` is not a number)."""
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def is_blank(text: str) -> bool:
    """Whether ``text`` holds nothing but spaces, tabs and line breaks."""
    return text.strip(BLANK_CHARACTERS) == ""


def to_number(value: object) -> Number | None:
    """``value`` as a model number, or ``None`` when it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, dict) and set(value) == {DECIMAL_KEY}:
        return number_from_text(value[DECIMAL_KEY])
    return None


def number_from_text(text: object) -> Decimal | None:
    """The finite number ``text`` spells, if any."""
    if not isinstance(text, str):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number_text(number: Number) -> str:
    """The SQL literal text of ``number``: plain digits, never an exponent."""
    if isinstance(number, int):
        return str(number)
    return format(number, "f")


def number_json(number: Number) -> object:
    """``number`` as JSON: an int, a float when exact, else ``{"decimal": "..."}``."""
    if isinstance(number, int):
        return number
    if number == number.to_integral_value() and abs(number) < 2**53:
        return int(number)
    as_float = float(number)
    if Decimal(repr(as_float)) == number:
        return as_float
    return {DECIMAL_KEY: format(number, "f")}


def parse_day(text: str) -> date | None:
    """The day ``YYYY-MM-DD`` names, or ``None`` when it is not a real day."""
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_instant(text: str) -> datetime | None:
    """The instant ``YYYY-MM-DDTHH:MM:SS`` names, or ``None`` when invalid."""
    if not _INSTANT.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
