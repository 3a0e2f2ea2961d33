"""Small facts about Parquet files, and one in-memory DuckDB the process shares.

A run with nothing to send reads only a few row counts and key-value metadata;
pyarrow would cost it 30 ms to import (0.1 s more where the Spark extra
installed numpy, which pyarrow then imports too). DuckDB reads a file's footer
in a millisecond through :func:`small_work`'s shared database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from pathlib import Path

_SHARED: list[duckdb.DuckDBPyConnection] = []
_SHARED_LOCK = threading.Lock()


@contextmanager
def small_work() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to one in-memory DuckDB database the process shares, for small jobs.

    Opening a DuckDB database takes 10-25 ms; a run writes a few small files
    (refused rows, an empty plan), counts a few emails and reads a few footers,
    each of which would open one. Each call gets its own connection (a cursor)
    to the shared database, so threads may use it at once. Nothing is kept in it.
    """
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(duckdb.connect(":memory:"))
        cursor = _SHARED[0].cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def parquet_rows(path: Path) -> int:
    """The number of rows of the Parquet file ``path``.

    Raises FileNotFoundError when there is no such file, ValueError when it is
    not a readable Parquet file.
    """
    row = _footer("SELECT num_rows FROM parquet_file_metadata(?)", path)
    return int(row[0][0]) if row else 0


def parquet_key_values(path: Path) -> dict[str, str]:
    """The key-value metadata of the Parquet file ``path`` (errors as above)."""
    rows = _footer("SELECT key, value FROM parquet_kv_metadata(?)", path)
    return {
        bytes(key).decode(errors="replace"): bytes(value).decode(errors="replace")
        for key, value in rows
    }


def parquet_columns(path: Path) -> list[str]:
    """The names of the Parquet file's columns, in order (errors as above)."""
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        with small_work() as con:
            cursor = con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)])
            return [str(column[0]) for column in cursor.description or ()]
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from None


def _footer(query: str, path: Path) -> list[tuple[Any, ...]]:
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        with small_work() as con:
            return con.execute(query, [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: duckdb.Error) -> ValueError:
    return ValueError(f"{path.name} is not a readable Parquet file: {exc}")
