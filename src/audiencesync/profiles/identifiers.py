"""Table names, and quoting for the SQL text the embedded store writes itself.

Segment queries never pass through here: they arrive as sqlglot expressions and
each engine renders them. This module serves the few statements the store builds
from names it controls (views, ``COPY``, ``read_csv``): identifiers are quoted and
literals escaped, always, so a column called ``a "b"`` or a folder called
``it's`` cannot change the statement.
"""

from __future__ import annotations

import re

from audiencesync.errors import SourceError

MAX_TABLE_NAME = 63
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def is_table_name(name: str) -> bool:
    """Letters, digits and underscores, starting with a letter, at most 63."""
    return len(name) <= MAX_TABLE_NAME and _TABLE_NAME.fullmatch(name) is not None


def check_table_name(name: str) -> str:
    """``name`` when it is a valid table name, else :class:`SourceError`."""
    if not is_table_name(name):
        msg = (
            f"Table name {name!r} is not valid: use letters, digits and underscores,"
            f" starting with a letter, at most {MAX_TABLE_NAME} characters."
        )
        details = {"table": name, "max": MAX_TABLE_NAME}
        raise SourceError(msg, field="table", details=details)
    return name


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
