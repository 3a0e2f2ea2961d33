"""Small rendering helpers shared by command modules: JSON, times, tables."""

from __future__ import annotations

from datetime import datetime

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from audiencesync.core.naming import shown


def echo_json(data: object) -> None:
    """Print ``data`` as indented JSON (datetimes and enums as strings)."""
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode())


def iso(moment: datetime | None) -> str | None:
    """An ISO 8601 timestamp for JSON, or None."""
    return moment.isoformat() if moment else None


def when(moment: datetime | None, *, never: str = "never") -> str:
    """A timestamp for people: ``2025-06-30 14:05 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else never


def members(count: int | None) -> str:
    """A member count for people: ``1 member``, ``2,345 members``."""
    if count is None:
        return "members not counted"
    return f"{count:,} member" + ("" if count == 1 else "s")


def plain(text: str) -> str:
    """Typed text (a name, a description) for plain output: invisible chars escaped."""
    return shown(text)


def cell(text: str) -> str:
    """Typed text for Rich output (tables, markup): escaped, and no markup in it."""
    return escape(shown(text))


def print_table(table: Table) -> None:
    """Print a Rich table without guessing colours for numbers and dates."""
    Console(highlight=False).print(table)
