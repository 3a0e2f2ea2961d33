"""Parquet files the sync engine writes: always whole, never half-written.

A file is written beside its destination under a fixed temporary name, flushed
to disk, then moved over the destination with :func:`os.replace`. A crash leaves
either the old file or the new one, plus at worst the temporary file, which the
next write of the same destination simply overwrites.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import duckdb

from audiencesync.core.parquet_facts import small_work
from audiencesync.core.private import FILE_MODE
from audiencesync.profiles.identifiers import quote_identifier, quote_literal

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path


def temporary_path(path: Path) -> Path:
    """Where ``path`` is written before it replaces the real file."""
    return path.with_name(f".{path.name}.tmp")


def write_parquet(
    con: duckdb.DuckDBPyConnection,
    query: str,
    path: Path,
    *,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write the rows of ``query`` (ordered by the query) to ``path``, atomically.

    ``metadata`` goes into the file's key-value metadata (keys are identifiers).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    temporary.unlink(missing_ok=True)
    target = quote_literal(str(temporary))
    con.execute(f"COPY ({query}) TO {target} (FORMAT parquet{_kv(metadata)})")
    temporary.chmod(FILE_MODE)  # it holds identifiers, whatever the umask
    flush(temporary)
    temporary.replace(path)
    flush(path.parent)


def _kv(metadata: Mapping[str, str] | None) -> str:
    if not metadata:
        return ""
    for key in metadata:
        if not key.isidentifier():
            msg = f"Parquet metadata keys must be identifiers, got {key!r}"
            raise ValueError(msg)
    pairs = ", ".join(
        f"{key}: {quote_literal(value)}" for key, value in metadata.items()
    )
    return f", KV_METADATA {{{pairs}}}"


def read_relation(path: Path | None, *, empty: str) -> str:
    """SQL reading the Parquet file ``path``, or the ``empty`` query without one."""
    if path is None or not path.exists():
        return empty
    return f"SELECT * FROM read_parquet({quote_literal(str(path))})"  # noqa: S608 -- a quoted path


def flush(path: Path) -> None:
    """Force ``path`` (a file or a folder) to disk, where the system allows it."""
    flags = (
        os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    )
    try:
        descriptor = os.open(path, flags)
    except OSError:  # folders cannot be opened on some systems (Windows)
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_values(
    path: Path, columns: Mapping[str, tuple[str, Sequence[object]]]
) -> Path:
    """A Parquet file of ``columns``: name → (DuckDB type, values, all as long).

    Written by DuckDB from list parameters, not built with pyarrow: making an
    Arrow array from Python values makes pyarrow import pandas wherever it is
    installed (the Spark extra), 0.2-0.3 s that a run would pay for nothing.
    Not atomic: for small files a pass writes and reads back at once.
    """
    select = ", ".join(
        f"unnest(CAST(? AS {sql_type}[])) AS {quote_identifier(name)}"
        for name, (sql_type, _) in columns.items()
    )
    values = [list(column) for _, column in columns.values()]
    with small_work() as con:
        target = quote_literal(str(path))
        con.execute(f"COPY (SELECT {select}) TO {target} (FORMAT parquet)", values)
    return path
