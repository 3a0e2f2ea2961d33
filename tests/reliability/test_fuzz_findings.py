"""Crashes the parser fuzzing found (T18), each pinned by the input that found it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from audiencesync.errors import SourceError
from audiencesync.profiles.sources import load_source


def _load(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    with duckdb.connect() as connection:
        load_source(connection, path)


def test_a_csv_whose_rows_trip_duckdbs_parser_is_a_source_error(tmp_path: Path) -> None:
    """A repeated header then a stray CR line: one-line SourceError, not DuckDB's."""
    content = b"customer_id,email,country\ncustomer_id,email,country\n\r\n"
    with pytest.raises(SourceError, match="cannot be read as CSV"):
        _load(tmp_path / "customers.csv", content)


def test_a_json_line_nested_2000_deep_is_a_source_error(tmp_path: Path) -> None:
    """Nesting deeper than Python's recursion limit names the line; no crash."""
    depth = 2000
    content = b'{"a":' * depth + b"1" + b"}" * depth + b"\n"
    with pytest.raises(SourceError, match="line 1: nested too deeply"):
        _load(tmp_path / "customers.jsonl", content)
