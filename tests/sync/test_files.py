"""Small Parquet files written from Python values, through DuckDB."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from audiencesync.core.parquet_facts import small_work
from audiencesync.sync.files import write_values


def test_values_become_typed_columns_in_order(tmp_path: Path) -> None:
    """Each column keeps its DuckDB type and its values, row by row."""
    emails = ["ana@example.com", 'o"hara@example.com', "nul\x00byte", "été@ex.com"]
    path = write_values(
        tmp_path / "r.parquet",
        {"batch": ("BIGINT", [3, 1, 2, 2]), "email": ("VARCHAR", emails)},
    )

    table = pq.read_table(path)
    assert table.schema.field("batch").type == pa.int64()
    assert table.schema.field("email").type == pa.string()
    assert table.column("batch").to_pylist() == [3, 1, 2, 2]
    assert table.column("email").to_pylist() == emails


def test_no_values_give_an_empty_file_with_the_columns(tmp_path: Path) -> None:
    """An empty list still writes the columns, with their types."""
    path = write_values(tmp_path / "e.parquet", {"email": ("VARCHAR", [])})

    table = pq.read_table(path)
    assert table.num_rows == 0
    assert table.schema.field("email").type == pa.string()


def test_threads_write_at_once_through_the_shared_database(tmp_path: Path) -> None:
    """Eight threads writing their own files each get exactly their own rows."""
    errors: list[Exception] = []

    def write(number: int) -> None:
        try:
            values = [f"t{number}-{i}@example.com" for i in range(2_000)]
            write_values(tmp_path / f"{number}.parquet", {"email": ("VARCHAR", values)})
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    for number in range(8):
        emails = pq.read_table(tmp_path / f"{number}.parquet").column(0).to_pylist()
        assert emails == [f"t{number}-{i}@example.com" for i in range(2_000)]


def test_the_shared_database_keeps_nothing_between_uses() -> None:
    """A table made in one use of the shared database is not there in the next."""
    with small_work() as con:
        con.execute("CREATE TEMP TABLE scratch_here AS SELECT 1 AS x")
    with small_work() as con:
        rows = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scratch_here'"
        ).fetchall()
    assert rows == [(0,)]
