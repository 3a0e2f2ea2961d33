"""Plain-Python helpers for the expected memberships (independent of the compiler)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

from tests.segments.data import PURCHASES, TICKETS, TODAY, Customer, Purchase, Ticket

T = TypeVar("T")


def blank(value: object) -> bool:
    """NULL, or text made only of spaces, tabs and line breaks."""
    return value is None or (isinstance(value, str) and value.strip(" \t\n\r") == "")


def given(value: T | None, test: Callable[[T], bool]) -> bool:
    """``test`` on a non-empty value; an empty value never matches."""
    return value is not None and not blank(value) and test(value)


def within_days(day: date | None, days: int) -> bool:
    """``day`` lies between TODAY - days and TODAY, both included."""
    return day is not None and TODAY - timedelta(days=days) <= day <= TODAY


def purchases_of(row: Customer) -> list[Purchase]:
    """The purchases whose customer_id is the profile's key."""
    return [p for p in PURCHASES if p.customer_id == row.customer_id]


def tickets_of(row: Customer) -> list[Ticket]:
    """The tickets whose owner is the profile's key."""
    return [t for t in TICKETS if t.owner == row.customer_id]
